import { join } from 'node:path';
import { DuckDbCatalog } from '@strata/local/catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import type { DynamoDbLedger } from '../adapters/index.js';
import { DuckDbEngine, Workspace } from '../engine/index.js';
import { type BatchIntent, type FlattenBatchResult, FlattenLayout } from '../flatten/index.js';
import { updateObject, writeParquetObject } from '../lake/index.js';
import { planKey } from '../plan-backlog/index.js';
import type { Catalog } from '../ports/index.js';
import { type ReconcileReport, runReconcile } from './runReconcile.js';
import { silverTableOf } from './silverTable.js';

const FOUR_KEYS = ['year', 'month', 'day', 'mode'];

let lake: LocalLake;
let ledger: DynamoDbLedger;
let engine: DuckDbEngine;

beforeAll(async () => {
  lake = await startLocalLake();
  ledger = lake.ledger;
  engine = await DuckDbEngine.create();
});

afterAll(async () => {
  engine?.close();
  await lake?.stop();
});

/** Writes a run's plan: a batch a line, each of the given raw objects. */
const plan = (runId: string, batches: readonly string[][], feed = 'tally') =>
  lake.store.put(
    planKey(feed, runId),
    batches
      .map((keys, n) =>
        JSON.stringify({
          batchId: `${runId}-${feed}-${n}`,
          bytes: 1,
          objects: keys.map((key) => ({ key, size: 1 })),
        })
      )
      .join('\n')
  );

/**
 * What FlattenBatch would have written for one batch: a part, a schema fragment, the manifest
 * of its parts, its result.
 *
 * @param column - the batch's one data column
 * @param unpartitioned - written as a feed with no partition writes it, naming no keys
 */
const batch = async (
  batchId: string,
  keyPass: boolean,
  feed = 'tally',
  column = 'id',
  unpartitioned = false
): Promise<FlattenBatchResult> => {
  const part = unpartitioned
    ? `silver/${feed}/part-${batchId}-0.parquet`
    : `silver/${feed}/year=2024/month=01/day=02/mode=web/part-${batchId}-0.parquet`;
  await DuckDbEngine.use({}, (engine) =>
    Workspace.use('reconcile-test', (ws) =>
      writeParquetObject(
        { engine, ws, store: lake.store },
        `select 1::bigint as "${column}", null::json as _variant, 'raw/x' as _source_key, 1::bigint as _source_line, '${batchId}' as _batch_id`,
        part
      )
    )
  );
  const schemaKey = `_schemas/${feed}/fragments/${batchId}.json`;
  const columns = [{ name: column, path: `$."${column}"`, type: 'BIGINT' }];
  await lake.store.put(schemaKey, JSON.stringify({ feed, batchId, columns }));
  const manifestKey = `_backfill/${feed}/batches/${batchId}.json`;
  await lake.store.put(
    manifestKey,
    JSON.stringify({
      feed,
      batchId,
      ...(unpartitioned ? { partitionKeys: [] } : {}),
      outputs: [part],
      children: [],
    })
  );
  return {
    feed,
    batchId,
    objects: 1,
    skipped: 0,
    recordsRead: 1,
    rowsWritten: 1,
    recordsQuarantined: 0,
    parts: 1,
    manifestKey,
    schemaKey,
    children: [],
    adopted: [],
    keyPass,
  };
};

/** The ResultWriter manifest of one run whose batches all succeeded. */
const resultWriterOf = async (feed: string, runId: string, results: FlattenBatchResult[]) => {
  const resultFile = `_backfill/${feed}/${runId}/results/SUCCEEDED_0.json`;
  await lake.store.put(
    resultFile,
    JSON.stringify(results.map((result) => ({ Output: JSON.stringify(result) })))
  );
  const manifest = `_backfill/${feed}/${runId}/results/manifest.json`;
  await lake.store.put(
    manifest,
    JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: resultFile }] } })
  );
  return { Bucket: 'test-lake', Key: manifest };
};

const localCatalog = () =>
  new DuckDbCatalog({
    path: join(lake.dir, 'catalog.duckdb'),
    lakeDirectory: join(lake.dir, 's3', 'test-lake'),
    schema: 'silver',
  });

describe('Function: runReconcile', () => {
  it('keeps every run’s new columns in the registry and the catalog when runs reconcile at once', async () => {
    // Prepare: four runs of one feed, each with a batch that found a column of its own
    const runs = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (name) => ({
        runId: `race-${name}`,
        resultWriter: await resultWriterOf('race', `race-${name}`, [
          await batch(`race-${name}1`, false, 'race', `only_${name}`),
        ]),
      }))
    );
    for (const run of runs) await plan(run.runId, [], 'race');
    const catalog = localCatalog();

    // Act
    const reports = await Promise.all(
      runs.map((run) =>
        runReconcile({ ...run, feed: 'race' }, { store: lake.store, catalog, ledger, engine })
      )
    );

    // Assess
    const registry = JSON.parse(
      new TextDecoder().decode(await lake.store.get(reports[0]?.schemaKey ?? ''))
    ) as { columns: { name: string }[] };
    const wanted = ['only_a', 'only_b', 'only_c', 'only_d'];
    expect(registry.columns.map((column) => column.name).sort()).toEqual(wanted);
    const table = await catalog.upsertTable(silverTableOf('race', [], new Set(), FOUR_KEYS));
    expect(table.columns.map((column) => column.name)).toEqual(expect.arrayContaining(wanted));
  });

  it('upserts the catalog again when a run that widened the registry upserted first', async () => {
    // Prepare: this run found amount as BIGINT; another run widens it to DOUBLE in the registry
    // and the catalog just before this run's catalog upsert lands
    const resultWriter = await resultWriterOf('widen', 'widen-1', [
      await batch('widen-11', false, 'widen', 'amount'),
    ]);
    await plan('widen-1', [], 'widen');
    const real = localCatalog();
    const widened = [{ name: 'amount', path: '$."amount"', type: 'DOUBLE' as const }];
    let raced = false;
    const catalog: Catalog = {
      upsertTable: async (definition) => {
        if (!raced) {
          raced = true;
          await updateObject(lake.store, FlattenLayout.schema('widen'), () =>
            JSON.stringify({ feed: 'widen', updatedBy: 'widen-2', columns: widened })
          );
          await real.upsertTable(silverTableOf('widen', widened, new Set(), FOUR_KEYS));
        }
        return real.upsertTable(definition);
      },
    };

    // Act
    await runReconcile(
      { runId: 'widen-1', feed: 'widen', resultWriter },
      { store: lake.store, catalog, ledger, engine }
    );

    // Assess
    const table = await real.upsertTable(silverTableOf('widen', [], new Set(), FOUR_KEYS));
    expect(table.columns.find((column) => column.name === 'amount')?.type).toBe('DOUBLE');
  });

  it("keeps a feed's partition keys in its registry and refuses a run that wrote others", async () => {
    // Prepare: a run of a feed with no partition, then one whose batch wrote the four keys
    const first = {
      runId: 'keys-1',
      resultWriter: await resultWriterOf('keys', 'keys-1', [
        await batch('keys-1a', false, 'keys', 'id', true),
      ]),
    };
    const second = {
      runId: 'keys-2',
      resultWriter: await resultWriterOf('keys', 'keys-2', [await batch('keys-2a', false, 'keys')]),
    };
    for (const run of [first, second]) await plan(run.runId, [], 'keys');
    const catalog = localCatalog();

    // Act
    const report = await runReconcile(
      { ...first, feed: 'keys' },
      { store: lake.store, catalog, ledger, engine }
    );
    const refused = await runReconcile(
      { ...second, feed: 'keys' },
      { store: lake.store, catalog, ledger, engine }
    ).catch((error: unknown) => error);

    // Assess
    const registry = JSON.parse(
      new TextDecoder().decode(await lake.store.get(report.schemaKey))
    ) as { partitionKeys: string[] };
    expect(registry.partitionKeys).toEqual([]);
    expect(refused).toMatchObject({
      name: 'Strata.QualityFailed',
      message: expect.stringContaining(
        'its silver folders are partitioned by [], this run wrote [year, month, day, mode]'
      ),
    });
  });

  it('counts the batches and those of them that needed the key pass', async () => {
    // Prepare: the Distributed Map's ResultWriter files for three succeeded batches
    const results = [await batch('b1', true), await batch('b2', false), await batch('b3', true)];
    const resultFile = '_backfill/tally/run-1/results/SUCCEEDED_0.json';
    await lake.store.put(
      resultFile,
      JSON.stringify(results.map((result) => ({ Output: JSON.stringify(result) })))
    );
    const manifest = '_backfill/tally/run-1/results/manifest.json';
    await lake.store.put(
      manifest,
      JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: resultFile }] } })
    );
    await plan('run-1', []);
    const catalog = new DuckDbCatalog({
      path: join(lake.dir, 'catalog.duckdb'),
      lakeDirectory: join(lake.dir, 's3', 'test-lake'),
      schema: 'silver',
    });

    // Act
    const report = await runReconcile(
      { runId: 'run-1', feed: 'tally', resultWriter: { Bucket: 'test-lake', Key: manifest } },
      { store: lake.store, catalog, ledger, engine }
    );

    // Assess
    expect(report.batches).toEqual({ succeeded: 3, failed: 0, pending: 0, keyPass: 2 });
    expect(report).toMatchObject({ recordsRead: 3, rowsWritten: 3, recordsQuarantined: 0 });
  });

  it('writes how typed the run landed: leaves by place, shares and the widest shapes', async () => {
    // Prepare: two batches, one of them committed before batches counted their typing
    const shape = { keys: ['a'], keyCount: 1, leafPaths: 3, leaves: 3, sampled: 2, example: 'x' };
    const counted = {
      ...(await batch('typed-1', false, 'typed')),
      typing: { leaves: { typed: 6, child: 1, json: 2, variant: 1 }, widest: [shape] },
    };
    const resultWriter = await resultWriterOf('typed', 'typed-run', [
      counted,
      await batch('typed-2', false, 'typed'),
    ]);
    await plan('typed-run', [], 'typed');

    // Act
    const result = await runReconcile(
      { runId: 'typed-run', feed: 'typed', resultWriter },
      { store: lake.store, catalog: localCatalog(), ledger, engine }
    );

    // Assess
    expect(result.typingKey).toBe('_backfill/typed/typed-run/typing.json');
    const typing = JSON.parse(new TextDecoder().decode(await lake.store.get(result.typingKey)));
    expect(typing).toEqual({
      feed: 'typed',
      runId: 'typed-run',
      batches: 1,
      leaves: { typed: 6, child: 1, json: 2, variant: 1, total: 10 },
      estimated: false,
      shares: { typed: 0.6, child: 0.1, json: 0.2, variant: 0.1, typedOrChild: 0.7 },
      widestShapes: [shape],
    });
  });

  it('lists failed batches in the report in the lake and only counts them in its result', async () => {
    // Prepare: one succeeded batch, and 3,000 failed ones as the ResultWriter records them
    const succeededFile = '_backfill/tally/run-2/results/SUCCEEDED_0.json';
    await lake.store.put(
      succeededFile,
      JSON.stringify([{ Output: JSON.stringify(await batch('b4', false)) }])
    );
    const failedIds = Array.from({ length: 3000 }, (_, i) => `run-2-tally-${i}`);
    const failedFile = '_backfill/tally/run-2/results/FAILED_0.json';
    await lake.store.put(
      failedFile,
      JSON.stringify(failedIds.map((batchId) => ({ Input: JSON.stringify({ batchId }) })))
    );
    const manifest = '_backfill/tally/run-2/results/manifest.json';
    await lake.store.put(
      manifest,
      JSON.stringify({
        ResultFiles: { SUCCEEDED: [{ Key: succeededFile }], FAILED: [{ Key: failedFile }] },
      })
    );
    await plan('run-2', []);
    const catalog = new DuckDbCatalog({
      path: join(lake.dir, 'catalog-2.duckdb'),
      lakeDirectory: join(lake.dir, 's3', 'test-lake'),
      schema: 'silver',
    });

    // Act
    const result = await runReconcile(
      { runId: 'run-2', feed: 'tally', resultWriter: { Bucket: 'test-lake', Key: manifest } },
      { store: lake.store, catalog, ledger, engine }
    );

    // Assess
    expect(result.batches).toMatchObject({ succeeded: 1, failed: 3000 });
    expect(result).not.toHaveProperty('failedBatches');
    expect(JSON.stringify(result).length).toBeLessThan(4096);
    const stored = await lake.store.get(result.reportKey);
    const report = JSON.parse(new TextDecoder().decode(stored)) as ReconcileReport;
    expect(report.failedBatches).toEqual(failedIds);
  });

  it('reports the failed, retried and stranded objects, and counts a finished dead batch once', async () => {
    // Prepare: two batches each finished objects of a dead batch that had committed
    const now = new Date();
    const lease = 30 * 60_000;
    const keys = ['raw/tally/ok', 'raw/tally/again', 'raw/tally/failed', 'raw/tally/held'];
    await ledger.claim('raw/tally/again', 'run-1-tally-0', now, lease);
    await ledger.fail('raw/tally/again', 'run-1-tally-0', 'Error: boom', now);
    for (const key of keys) await ledger.claim(key, 'run-3-tally-0', now, lease);
    for (const key of keys.slice(0, 2)) {
      await ledger.succeed(key, 'run-3-tally-0', { rowsWritten: 1, rowsQuarantined: 0 }, now);
    }
    await ledger.fail('raw/tally/failed', 'run-3-tally-0', 'Strata.Transient: slow down', now);
    await plan('run-3', [keys]);
    const dead = await batch('dead', false);
    const intent: BatchIntent = {
      feed: 'tally',
      batchId: 'dead',
      keys: [],
      items: [],
      result: dead,
    };
    await lake.store.put(FlattenLayout.batchIntent('tally', 'dead'), JSON.stringify(intent));
    const finishers = [await batch('c1', false), await batch('c2', false)];
    const resultFile = '_backfill/tally/run-3/results/SUCCEEDED_0.json';
    await lake.store.put(
      resultFile,
      JSON.stringify(
        finishers.map((result) => ({ Output: JSON.stringify({ ...result, adopted: ['dead'] }) }))
      )
    );
    const manifest = '_backfill/tally/run-3/results/manifest.json';
    await lake.store.put(
      manifest,
      JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: resultFile }] } })
    );
    const catalog = new DuckDbCatalog({
      path: join(lake.dir, 'catalog-3.duckdb'),
      lakeDirectory: join(lake.dir, 's3', 'test-lake'),
      schema: 'silver',
    });

    // Act
    const result = await runReconcile(
      { runId: 'run-3', feed: 'tally', resultWriter: { Bucket: 'test-lake', Key: manifest } },
      { store: lake.store, catalog, ledger, engine }
    );

    // Assess
    expect(result).toMatchObject({
      objects: { planned: 4, succeeded: 2, retried: 1, failed: 1, stranded: 1 },
      adoptedBatches: 1,
      batches: { succeeded: 3 },
      rowsWritten: 3,
    });
    const stored = await lake.store.get(result.reportKey);
    const report = JSON.parse(new TextDecoder().decode(stored)) as ReconcileReport;
    expect(report).toMatchObject({
      retriedObjects: [{ key: 'raw/tally/again', attempts: 2, status: 'SUCCEEDED' }],
      failedObjects: [
        { key: 'raw/tally/failed', batchId: 'run-3-tally-0', error: 'Strata.Transient: slow down' },
      ],
      strandedObjects: [{ key: 'raw/tally/held', batchId: 'run-3-tally-0' }],
    });
  });
});
