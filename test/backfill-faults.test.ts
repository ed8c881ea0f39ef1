import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransientError } from '@strata/core/errors';
import type { ReconcileResult } from '@strata/core/reconcile';
import { generateBacklog } from '@strata/local/backlog';
import { EmbeddedRuntime, type ExecuteOptions } from '@strata/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshot } from './support/lake.js';
import { TEST_TIME_SCALE } from './support/runtime.js';

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
  const runtime = await EmbeddedRuntime.start({
    dir: join(dir, name),
    scale: 0.002,
    timeScale: TEST_TIME_SCALE,
  });
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
  it('ends, after retries, a failed run and its redrive, with exactly the fault-free output', async () => {
    // Prepare: the fault-free reference
    const reference = await clean.execute('backfill', { executionName: EXECUTION, input: INPUT });
    expect(reference.status).toBe('SUCCEEDED');
    const expected = await snapshot(clean.store, 'silver/');
    const attempts = new Map<number, number>();
    let fixed = false;
    const faults = {
      // Fails before doing anything, once: the map's Retry runs it again.
      thrown: (n: number) => n % 5 === 1,
      // Writes everything, then dies before answering, once: the retry must rewrite the same files.
      crashedAfterWrite: (n: number) => n % 5 === 3,
      // Fails on every attempt until fixed: in FlattenBacklog (tolerated), then again in
      // RetryFailedBatches (not tolerated), which leaves the execution FAILED for a redrive.
      persistent: (n: number) => n === 0 && !fixed,
    };
    const functionOverrides: ExecuteOptions['functionOverrides'] = {
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
    };

    // Act
    const failed = await faulty.execute('backfill', {
      executionName: EXECUTION,
      input: INPUT,
      functionOverrides,
    });
    fixed = true;
    const redriven = await faulty.redriveExecution(EXECUTION, { functionOverrides });
    const again = await faulty.redriveExecution(EXECUTION).catch((error: Error) => error);

    // Assess
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      redrive: { state: 'RetryFailedBatches' },
    });
    expect(faulty.deadLetters.map((letter) => JSON.parse(letter.body).error)).toEqual([
      'batches failed',
    ]);
    expect(faulty.alerts.map((alert) => alert.subject)).toEqual([
      'Strata backfill: batches failed',
      'ALARM: BackfillExecutionsFailed',
    ]);
    expect(redriven.status).toBe('SUCCEEDED');
    const batches = attempts.size;
    expect(batches).toBeGreaterThanOrEqual(10);
    const faulted = [...attempts.keys()].filter(
      (n) => faults.thrown(n) || faults.crashedAfterWrite(n) || n === 0
    );
    expect(faulted.length / batches).toBeGreaterThanOrEqual(0.1);
    const { report } = outputOf(redriven).reconcile;
    expect(report.batches).toMatchObject({ succeeded: batches, failed: 0, pending: 0 });
    expect(report.rowsWritten).toBe(outputOf(reference).reconcile.report.rowsWritten);
    expect(await snapshot(faulty.store, 'silver/')).toEqual(expected);
    expect(again).toMatchObject({
      name: 'StepFunctions.ExecutionNotRedrivable',
      message: 'Execution is SUCCEEDED and cannot be redriven',
    });
  });
});
