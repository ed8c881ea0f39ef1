import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransientError } from '@strata/core/errors';
import { type ReconcileResult, runReconcile } from '@strata/core/reconcile';
import { generateBacklog } from '@strata/local/backlog';
import { EmbeddedRuntime } from '@strata/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshot } from './support/lake.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const FEED = 'payments';
const INPUT = {
  feed: FEED,
  prefix: `raw/${FEED}/all_historical_files/`,
  targetBatchBytes: 4 * 1024 * 1024,
  maxFilesPerBatch: 2,
};
const EXECUTION = 'backfill-faults';

let dir: string;
let clean: EmbeddedRuntime;
let faulty: EmbeddedRuntime;

/** Starts a runtime with the same generated backlog as every other one here. */
const runtimeWithBacklog = async (name: string) => {
  const runtime = await EmbeddedRuntime.start({ dir: join(dir, name), scale: 0.002 });
  await generateBacklog({
    store: runtime.store,
    targetBytes: 1024 * 1024,
    seed: 21,
    feeds: [FEED],
  });
  return runtime;
};

/** The parts of the backfill's final state this test reads. */
interface BackfillOutput {
  plan: unknown;
  mapRun: { ResultWriterDetails: { Bucket: string; Key: string } };
  reconcile: { report: ReconcileResult };
}

const outputOf = (outcome: unknown): BackfillOutput =>
  (outcome as { output: BackfillOutput }).output;

const batchNumber = (event: unknown) =>
  Number(/-(\d{6})$/.exec(String((event as { batchId: string }).batchId))?.[1]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-faults-'));
  [clean, faulty] = await Promise.all([runtimeWithBacklog('clean'), runtimeWithBacklog('faulty')]);
});

afterAll(async () => {
  await Promise.all([clean?.stop(), faulty?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('backfill under faults', () => {
  it('ends, after retries and a redrive, with exactly the fault-free output', async () => {
    // Prepare: the fault-free reference
    const reference = await clean.execute('backfill', { executionName: EXECUTION, input: INPUT });
    expect(reference.status).toBe('SUCCEEDED');
    const expected = await snapshot(clean.store, 'silver/');
    const attempts = new Map<number, number>();
    const faults = {
      // Fails before doing anything, once: the map's Retry runs it again.
      thrown: (n: number) => n % 5 === 1,
      // Writes everything, then dies before answering, once: the retry must rewrite the same files.
      crashedAfterWrite: (n: number) => n % 5 === 3,
      // Fails on every attempt of the first execution: left FAILED for the redrive.
      persistent: (n: number) => n === 0,
    };

    // Act
    const outcome = await faulty.execute('backfill', {
      executionName: EXECUTION,
      input: INPUT,
      functionOverrides: {
        FlattenBatch: (real) => async (event, name) => {
          const n = batchNumber(event);
          const attempt = (attempts.get(n) ?? 0) + 1;
          attempts.set(n, attempt);
          if (faults.persistent(n)) throw new TransientError(`batch ${n} keeps failing`);
          if (faults.thrown(n) && attempt === 1) throw new TransientError(`batch ${n} failed once`);
          const result = await real(event, name);
          if (faults.crashedAfterWrite(n) && attempt === 1) {
            throw new TransientError(`batch ${n} crashed after writing`);
          }
          return result;
        },
      },
    });
    const output = outputOf(outcome);
    const redriven = await faulty.redriveMapRun('backfill', {
      executionName: EXECUTION,
      input: { ...INPUT, plan: output.plan },
      stateName: 'FlattenBacklog',
      resultWriterDetails: output.mapRun.ResultWriterDetails,
    });
    const report = await runReconcile(
      { runId: EXECUTION, feed: FEED, resultWriter: redriven.ResultWriterDetails },
      { store: faulty.store, catalog: faulty.catalog, ledger: faulty.ledger }
    );

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const batches = attempts.size;
    expect(batches).toBeGreaterThanOrEqual(10);
    const faulted = [...attempts.keys()].filter(
      (n) => faults.thrown(n) || faults.crashedAfterWrite(n) || faults.persistent(n)
    );
    expect(faulted.length / batches).toBeGreaterThanOrEqual(0.1);
    expect(output.reconcile.report.batches.failed).toBe(1);
    expect(report.batches).toMatchObject({ failed: 0, pending: 0 });
    expect(report.rowsWritten).toBe(outputOf(reference).reconcile.report.rowsWritten);
    expect(await snapshot(faulty.store, 'silver/')).toEqual(expected);
  });
});
