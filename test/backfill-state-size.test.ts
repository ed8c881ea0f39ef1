import { readFile } from 'node:fs/promises';
import { placeholdersOf, renderAsl } from '@strata/core/asl';
import {
  type FlattenBatchInput,
  type FlattenBatchResult,
  MAX_CHILD_TABLES,
  SHAPE_KEY_CHARS,
  WIDEST_SHAPES,
} from '@strata/core/flatten';
import { type PlanBacklogInput, runPlanBacklog } from '@strata/core/plan-backlog';
import type { ObjectStore } from '@strata/core/ports';
import type { ReconcileInput, ReconcileResult } from '@strata/core/reconcile';
import { type LocalFunction, runLocalExecution } from '@strata/local/asl';
import { localBindings } from '@strata/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyLedger, GeneratedListing } from './support/generatedListing.js';
import { type LocalLake, startLocalLake } from './support/localLake.js';
import { TEST_TIME_SCALE } from './support/runtime.js';

const OBJECTS = 2_000_000;
const FEED = 'clicks';

let lake: LocalLake;

/** As many child tables as a batch makes, each of the longest name a catalog takes. */
const CHILD_DATASETS = Array.from(
  { length: MAX_CHILD_TABLES },
  (_, n) => `${FEED}__${'c'.repeat(63 - FEED.length - 2 - 9)}_${String(n).padStart(8, '0')}`
);

beforeAll(async () => {
  lake = await startLocalLake('strata-lake');
});

afterAll(async () => {
  await lake?.stop();
});

/** The lake on local S3, except that its raw/ listing is generated: 2,000,000 objects. */
const withGeneratedRaw = (store: ObjectStore, listing: GeneratedListing): ObjectStore =>
  new Proxy(store, {
    get: (target, property) => {
      if (property === 'list') {
        return (prefix: string) =>
          prefix.startsWith('raw/') ? listing.list(prefix) : target.list(prefix);
      }
      const value = Reflect.get(target, property, target);
      // The adapter's methods use private fields: they must run on it, not on the proxy.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

/**
 * FlattenBatch as it answers at this scale, without reading 250 GB that are not there: the
 * counts of its batch, 960 Parquet parts (a 64 MB clickstream batch wrote that many) and the key
 * of their manifest.
 */
const flattenBatch: LocalFunction = async (event) => {
  const { feed, batchId, objects } = event as FlattenBatchInput;
  const result: FlattenBatchResult = {
    feed,
    batchId,
    objects: objects.length,
    skipped: 0,
    recordsRead: objects.length * 100,
    rowsWritten: objects.length * 100,
    recordsQuarantined: 0,
    parts: 960,
    manifestKey: `_backfill/${feed}/batches/${batchId}.json`,
    schemaKey: `_schemas/${feed}/fragments/${batchId}.json`,
    adopted: [],
    children: CHILD_DATASETS.map((dataset) => ({
      dataset,
      rowsWritten: 1e9,
      schemaKey: `_schemas/${dataset}/fragments/${batchId}.json`,
    })),
    keyPass: false,
    // As wide as a batch's typing gets: its widest shapes, each naming a dozen long keys.
    typing: {
      leaves: { typed: 1e9, child: 1e9, json: 1e9, variant: 1e9 },
      widest: Array.from({ length: WIDEST_SHAPES }, () => ({
        keys: Array.from({ length: 12 }, (_, k) => `${'k'.repeat(SHAPE_KEY_CHARS - 3)}${k}`),
        keyCount: 10_000,
        leafPaths: 1e6,
        leaves: 1e6,
        sampled: 1_000,
        example: `raw/${feed}/${'x'.repeat(1000)}`,
      })),
    },
  };
  return result;
};

/**
 * Reconcile as it answers at this scale (the real one asks the ledger about every planned
 * object, 2,000,000 lookups): counts and keys, whatever the number of batches.
 */
const reconcile: LocalFunction = async (event) => {
  const { feed, runId } = event as ReconcileInput;
  const result: ReconcileResult = {
    feed,
    runId,
    batches: { succeeded: 4_000, failed: 0, pending: 0, keyPass: 0 },
    objects: { planned: OBJECTS, succeeded: OBJECTS, retried: 0, failed: 0, stranded: 0 },
    adoptedBatches: 0,
    recordsRead: OBJECTS * 100,
    rowsWritten: OBJECTS * 100,
    recordsQuarantined: 0,
    schemaKey: `_schemas/${feed}/schema.json`,
    table: { name: feed, change: 'updated' },
    children: CHILD_DATASETS.map((dataset) => ({
      dataset,
      rowsWritten: 1e12,
      schemaKey: `_schemas/${dataset}/schema.json`,
      table: { name: dataset, change: 'updated' },
    })),
    reportKey: `_backfill/${feed}/${runId}/report.json`,
    typingKey: `_backfill/${feed}/${runId}/typing.json`,
  };
  return result;
};

describe('backfill state size', () => {
  it('keeps every state payload of a 2,000,000-object backfill under 64 KiB', async () => {
    // Prepare: the real ASL, the real planner over a generated listing, the real Distributed
    // Map emulation (ItemReader and ResultWriter on local S3)
    const template = await readFile(
      new URL('../statemachines/backfill.asl.json', import.meta.url),
      'utf8'
    );
    const store = withGeneratedRaw(lake.store, new GeneratedListing(OBJECTS, false));
    const functions: Record<string, LocalFunction> = {
      PlanBacklog: async (event) => {
        const { runId, request } = event as { runId: string; request: PlanBacklogInput };
        return runPlanBacklog({ ...request, runId }, { store, ledger: emptyLedger });
      },
      FlattenBatch: flattenBatch,
      Reconcile: reconcile,
    };

    // Act
    const outcome = await runLocalExecution({
      definition: renderAsl(template, localBindings(placeholdersOf(template))),
      input: {
        feed: FEED,
        prefix: `raw/${FEED}/all_historical_files/`,
        // The defaults: 256 MiB or 1,000 objects a batch, whichever comes first.
      },
      executionName: 'backfill-2m',
      stateMachineName: 'strata-local-backfill',
      timeScale: TEST_TIME_SCALE,
      integrations: {
        lambda: (name) => {
          const run = functions[name];
          if (!run) throw new Error(`no function ${name}`);
          return run;
        },
        objectStore: () => lake.store,
        sendMessage: async () => undefined,
        publish: async () => undefined,
      },
    });

    // Assess
    expect(outcome).toMatchObject({
      status: 'SUCCEEDED',
      output: { plan: { objects: OBJECTS } },
    });
    const { plan } = (outcome as { output: { plan: { batches: number } } }).output;
    expect(plan.batches).toBeGreaterThanOrEqual(2_000);
    expect(outcome.largestPayload?.bytes).toBeLessThan(64 * 1024);
  });
});
