import { estimatePlanCost } from '@strata/core/cost';
import { typingReport } from '@strata/core/flatten';
import type { ReconcileReport } from '@strata/core/reconcile';
import { describe, expect, it } from 'vitest';
import type { RunReport } from './collectRunReport.js';
import { renderRunReport } from './renderRunReport.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 7, 6, 0, seconds));

const reconcileReport = (overrides: Partial<ReconcileReport> = {}): ReconcileReport => ({
  feed: 'orders',
  runId: 'backfill-orders-2026-12-07T06-00-00-000Z',
  batches: { succeeded: 2, failed: 0, pending: 0, keyPass: 2 },
  objects: { planned: 4, succeeded: 4, retried: 0, failed: 0, stranded: 0 },
  adoptedBatches: 0,
  recordsRead: 1000,
  rowsWritten: 990,
  recordsQuarantined: 10,
  schemaKey: '_schemas/orders/schema.json',
  table: { name: 'silver.orders', change: 'created' },
  children: [],
  reportKey: '_backfill/orders/backfill-orders-2026-12-07T06-00-00-000Z/report.json',
  typingKey: '_backfill/orders/backfill-orders-2026-12-07T06-00-00-000Z/typing.json',
  failedBatches: [],
  failedObjects: [],
  retriedObjects: [],
  strandedObjects: [],
  ...overrides,
});

/** A two-batch run that quarantined 10 records for two reasons, one of them hostile HTML. */
const runReport = (overrides: Partial<RunReport> = {}): RunReport => {
  const report = reconcileReport(overrides.report);
  return {
    feed: 'orders',
    runId: report.runId,
    report,
    plan: { objects: 4, bytes: 8 * 1024 ** 2, batches: 2 },
    read: {
      feed: 'orders',
      runId: report.runId,
      report,
      silverRows: 990,
      quarantined: [
        { reason: 'not valid JSON', records: 7 },
        { reason: '<img src=x onerror=alert(1)>', records: 3 },
      ],
      reconciled: true,
      rows: [],
      parts: [],
    },
    batches: [
      { batchId: 'b-0', status: 'SUCCEEDED', start: at(2), stop: at(20), bytes: 4 * 1024 ** 2 },
      { batchId: 'b-1', status: 'SUCCEEDED', start: at(3), stop: at(25), bytes: 4 * 1024 ** 2 },
    ],
    stages: [
      { name: 'PlanBacklog', start: at(0), end: at(2) },
      { name: 'FlattenBacklog', start: at(2), end: at(25) },
      { name: 'Reconcile', start: at(25), end: at(27) },
    ],
    bytesWritten: 1024 ** 2,
    typing: [{ dataset: 'orders', columns: 20, json: 5 }],
    cost: estimatePlanCost({ totalBytes: 8 * 1024 ** 2, objects: 4, batches: 2 }),
    gaps: [],
    ...overrides,
  };
};

describe('Function: renderRunReport', () => {
  it('draws every stage, and each concurrent batch in a lane of its own', () => {
    // Act
    const html = renderRunReport(runReport());

    // Assess
    expect(html.match(/class="bar stage /g)).toHaveLength(3);
    expect(html.match(/class="bar batch"/g)).toHaveLength(2);
    expect(html).toContain('· lane 2');
    expect(html).toContain('wall time 27 s');
    expect(html).toContain('75%');
    expect(html).toContain('✓ reconciled');
  });

  it('escapes what comes from the data', () => {
    // Act
    const html = renderRunReport(runReport());

    // Assess
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('says what needs a look: failed batches and objects, and what it could not read', () => {
    // Prepare
    const report = reconcileReport({
      batches: { succeeded: 1, failed: 1, pending: 0, keyPass: 1 },
      failedBatches: ['b-1'],
      failedObjects: [{ key: 'raw/orders/x.json', attempts: 1, batchId: 'b-1', error: 'boom' }],
    });

    // Act
    const html = renderRunReport(
      runReport({ report, gaps: ['the Map Run that ran the batches is not in the lake'] })
    );

    // Assess
    expect(html).toContain('✗ needs a look');
    expect(html).toContain('batch b-1 failed or never ran');
    expect(html).toContain('raw/orders/x.json FAILED: boom');
    expect(html).toContain('the Map Run that ran the batches is not in the lake');
  });

  it("shows where the run's leaves landed and its widest record shapes, from typing.json", () => {
    // Prepare
    const leaves = typingReport({ feed: 'orders', runId: 'r' }, [
      {
        leaves: { typed: 900, child: 60, json: 30, variant: 10 },
        estimated: false,
        widest: [
          {
            keys: ['<b>id</b>', 'items', 'meta', 'total', 'when'],
            keyCount: 5,
            leafPaths: 40,
            leaves: 38,
            sampled: 12,
            example: 'raw/orders/a.json',
          },
        ],
      },
    ]);

    // Act
    const html = renderRunReport(runReport({ leaves }));

    // Assess
    expect(html).toContain('>96.0%<');
    expect(html).toContain('900 (90.0%)');
    expect(html).toContain('60 (6.0%)');
    expect(html).toContain('&lt;b&gt;id&lt;/b&gt;, items, meta, total, …');
    expect(html).not.toContain('<b>id');
  });

  it('falls back to typed columns for a run from before leaves were counted', () => {
    // Act
    const html = renderRunReport(runReport({ leaves: undefined }));

    // Assess
    expect(html).toContain('>75.0%<');
    expect(html).toContain('the other 5 hold JSON text');
  });

  it('says so when nothing was quarantined, and when no times are known', () => {
    // Prepare
    const report = reconcileReport({ recordsQuarantined: 0, rowsWritten: 1000 });

    // Act
    const html = renderRunReport(runReport({ report, stages: [], batches: [] }));

    // Assess
    expect(html).toContain('Nothing was quarantined');
    expect(html).toContain('The lake holds no times for this run.');
  });
});
