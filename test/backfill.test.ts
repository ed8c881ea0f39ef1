import { type GeneratedBacklog, generateBacklog } from '@strata/local/backlog';
import { beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from './support/lake.js';
import { useEmbeddedRuntime } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);
const FEED = 'payments';
const PREFIX = `raw/${FEED}/all_historical_files/`;
let backlog: GeneratedBacklog;

interface Report {
  batches: { succeeded: number; failed: number; pending: number };
  recordsRead: number;
  rowsWritten: number;
  recordsQuarantined: number;
}

const reportOf = (outcome: unknown): Report =>
  (outcome as { output: { reconcile: { report: Report } } }).output.reconcile.report;

beforeAll(async () => {
  backlog = await generateBacklog({
    store: suite.runtime.store,
    targetBytes: 1024 * 1024,
    seed: 9,
    feeds: [FEED],
  });
});

describe('backfill state machine (embedded runtime, Distributed Map emulated)', () => {
  it('flattens the whole backlog and reconciles with what was generated', async () => {
    // Prepare
    const truth = backlog.objects.filter((object) => object.key.startsWith(PREFIX));

    // Act
    const outcome = await suite.runtime.execute('backfill', {
      executionName: 'backfill-1',
      input: { feed: FEED, prefix: PREFIX },
    });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const report = reportOf(outcome);
    expect(report.batches.failed + report.batches.pending).toBe(0);
    expect(report.rowsWritten).toBe(truth.reduce((sum, o) => sum + o.records, 0));
    expect(report.recordsQuarantined).toBe(truth.reduce((sum, o) => sum + o.malformed, 0));
    const ledger = await suite.runtime.ledger.getMany(truth.map((object) => object.key));
    expect([...ledger.values()].filter((entry) => entry.status !== 'SUCCEEDED')).toEqual([]);
    expect(await keysUnder(suite.runtime.store, PREFIX)).toEqual([]);
    expect(await keysUnder(suite.runtime.store, `_schemas/${FEED}/schema.json`)).toHaveLength(1);
  });

  it('finds nothing left to do when the backfill runs again', async () => {
    // Act
    const outcome = await suite.runtime.execute('backfill', {
      executionName: 'backfill-2',
      input: { feed: FEED, prefix: PREFIX },
    });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(reportOf(outcome)).toMatchObject({
      batches: { succeeded: 0, failed: 0, pending: 0 },
      rowsWritten: 0,
    });
  });
});
