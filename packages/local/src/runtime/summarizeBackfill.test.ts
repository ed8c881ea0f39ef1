import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
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
/** The elements of the historical records' `payload.items`: the rows of its child table. */
let items = 0;

/** The elements of `payload.items` in one generated object (none in a truncated gzip). */
const itemsIn = async (key: string, gzip: boolean) => {
  const body = Buffer.from((await runtime.store.get(key)) ?? new Uint8Array());
  let text: string;
  try {
    text = (gzip ? gunzipSync(body) : body).toString('utf8');
  } catch {
    return 0;
  }
  const count = (chunk: string) => {
    const value = JSON.parse(chunk) as { payload?: { items?: unknown[] } };
    return (Array.isArray(value) ? value : [value]).reduce(
      (n: number, record: { payload?: { items?: unknown[] } }) =>
        n + (record.payload?.items?.length ?? 0),
      0
    );
  };
  try {
    return text.trim() === '' ? 0 : count(text);
  } catch {
    // JSON Lines, a malformed line among them
    return text
      .split('\n')
      .filter(Boolean)
      .reduce((n, line) => {
        try {
          return n + count(line);
        } catch {
          return n;
        }
      }, 0);
  }
};

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
  for (const object of backlog.objects.filter((o) => o.key.startsWith(PREFIX))) {
    items += await itemsIn(object.key, object.gzip);
  }
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
        layer: 'silver',
        dataset: `${FEED}__payload_items`,
        rows: items,
        location: `silver/${FEED}__payload_items/`,
        note: 'backfill, this run: one row per array element',
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
