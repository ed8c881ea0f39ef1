import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TIME_SCALE } from '../../../../test/support/runtime.js';
import { type GeneratedBacklog, generateBacklog } from '../backlog/index.js';
import { EmbeddedRuntime } from './EmbeddedRuntime.js';
import { type BackfillOutput, summarizeBackfill } from './summarizeBackfill.js';

const FEED = 'payments';
const PREFIX = `raw/${FEED}/all_historical_files/`;
let dir: string;
let runtime: EmbeddedRuntime;
let backlog: GeneratedBacklog;

/** One backfill execution of the feed, summarised. */
const backfillOnce = async (runId: string) => {
  const outcome = await runtime.execute('backfill', {
    executionName: runId,
    input: { feed: FEED, prefix: PREFIX },
  });
  if (outcome.status !== 'SUCCEEDED') throw new Error(`${outcome.error}: ${outcome.cause}`);
  return summarizeBackfill(runtime.store, {
    feed: FEED,
    runId,
    output: outcome.output as BackfillOutput,
  });
};

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  dir = await mkdtemp(join(tmpdir(), 'strata-summarize-backfill-'));
  runtime = await EmbeddedRuntime.start({ dir, scale: 0.001, timeScale: TEST_TIME_SCALE });
  backlog = await generateBacklog({
    store: runtime.store,
    targetBytes: 256 * 1024,
    seed: 3,
    feeds: [FEED],
  });
});

afterAll(async () => {
  await runtime?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Function: summarizeBackfill', () => {
  it('counts the silver rows and quarantined records of the run, read from the lake', async () => {
    // Prepare
    const historical = backlog.objects.filter((object) => object.key.startsWith(PREFIX));
    const records = historical.reduce((sum, object) => sum + object.records, 0);
    // The truncated gzip is the one object with no records that is malformed.
    const malformedLines = historical
      .filter((object) => object.records > 0)
      .reduce((sum, object) => sum + object.malformed, 0);

    // Act
    const summary = await backfillOnce('summary-1');

    // Assess
    expect(summary.silverRows).toBe(records);
    expect(summary.report.rowsWritten).toBe(records);
    expect(summary.quarantined).toEqual([
      { reason: 'not valid JSON', records: malformedLines },
      { reason: 'unreadable file: gzip: unexpected end of file', records: 1 },
    ]);
    expect(summary.reconciled).toBe(true);
    expect(summary.typing).toMatchObject({ feed: FEED, runId: 'summary-1', batches: 1 });
    const { typed, child, json, variant, total } = summary.typing?.leaves ?? {};
    expect(total).toBeGreaterThan(records);
    expect(Number(typed) + Number(child) + Number(json) + Number(variant)).toBe(total);
    expect(summary.typing?.widestShapes[0]?.keys).toEqual(expect.arrayContaining(['DATE', 'MODE']));
    expect(summary.rows).toEqual([
      {
        layer: 'silver',
        dataset: FEED,
        rows: records,
        location: `silver/${FEED}/`,
        note: 'backfill, this run',
      },
      {
        layer: 'quarantine',
        dataset: FEED,
        rows: malformedLines,
        location: `quarantine/${FEED}/`,
        note: 'not valid JSON',
      },
      {
        layer: 'quarantine',
        dataset: FEED,
        rows: 1,
        location: `quarantine/${FEED}/`,
        note: 'unreadable file: gzip: unexpected end of file',
      },
    ]);
  });

  it("leaves out earlier runs' output when a rerun finds nothing left to do", async () => {
    // Act
    const summary = await backfillOnce('summary-2');

    // Assess
    expect(summary).toMatchObject({ silverRows: 0, quarantined: [], reconciled: true });
    expect(summary.report).toMatchObject({ recordsRead: 0, rowsWritten: 0 });
  });
});
