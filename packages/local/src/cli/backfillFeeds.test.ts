import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlattenLayout } from '@strata/core/flatten';
import { planKey } from '@strata/core/plan-backlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../../../../test/support/cliOutput.js';
import { TEST_TIME_SCALE } from '../../../../test/support/runtime.js';
import { generateBacklog } from '../backlog/index.js';
import { EmbeddedRuntime } from '../runtime/EmbeddedRuntime.js';
import { type LocalExecutions, serveLocalExecutions } from '../sfn-api/localExecutions.js';
import {
  BACKLOG_KEY,
  backfillFeeds,
  backfillProblems,
  backfillSection,
  backfillTable,
  firstBatchFailure,
  prepareBacklog,
} from './backfillFeeds.js';

let dir: string;
let runtime: EmbeddedRuntime;
/** The runtime's Step Functions API, which backfillFeeds starts its executions through. */
let local: LocalExecutions;

const capture = captureOutput;

const keysUnder = async (prefix: string) => {
  const keys: string[] = [];
  for await (const object of runtime.store.list(prefix)) keys.push(object.key);
  return keys;
};

const SIZE = 192 * 1024;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  dir = await mkdtemp(join(tmpdir(), 'strata-backfill-feeds-'));
  runtime = await EmbeddedRuntime.start({ dir, scale: 0.001, timeScale: TEST_TIME_SCALE });
  local = await serveLocalExecutions(runtime);
});

afterAll(async () => {
  await local?.close();
  await runtime?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Function: prepareBacklog', () => {
  it('generates a backlog into an empty lake and records it', async () => {
    // Prepare
    const { lines, write } = capture();

    // Act
    const backlog = await prepareBacklog(runtime, { targetBytes: SIZE, sizeGiven: true }, write);

    // Assess
    expect(backlog.feeds).toEqual(['clickstream', 'payments', 'devices']);
    expect(backlog.objects).toBe((await keysUnder('raw/')).length);
    expect(await runtime.store.get(BACKLOG_KEY)).toBeDefined();
    expect(lines.out.join('\n')).toContain(`backlog: generated ${backlog.objects} raw objects`);
  });

  it('reuses the recorded backlog instead of writing processed objects again', async () => {
    // Prepare
    const { write } = capture();
    const first = await prepareBacklog(runtime, { targetBytes: SIZE, sizeGiven: false }, write);
    await backfillFeeds(runtime, local.executions, ['clickstream'], write);
    const left = await keysUnder('raw/clickstream/all_historical_files/');

    // Act
    const again = await prepareBacklog(runtime, { targetBytes: 1024, sizeGiven: false }, write);

    // Assess
    expect(left).toEqual([]);
    expect(again).toEqual(first);
    expect(await keysUnder('raw/clickstream/all_historical_files/')).toEqual([]);
  });

  it('refuses a size that differs from the recorded backlog', async () => {
    // Act
    const prepared = prepareBacklog(
      runtime,
      { targetBytes: 1024 ** 3, sizeGiven: true },
      capture().write
    );

    // Assess
    await expect(prepared).rejects.toThrow(
      /--size 1\.0 GB: the lake in .* already holds the 192 KB backlog .*add --fresh/
    );
  });
});

describe('Function: backfillFeeds', () => {
  it('reports a failed feed and goes on with the others', async () => {
    // Prepare
    const { lines, write } = capture();
    await runtime.store.put(FlattenLayout.schema('payments'), 'not json');

    // Act
    const runs = await backfillFeeds(runtime, local.executions, ['payments', 'devices'], write);

    // Assess
    expect(runs.map((run) => [run.feed, run.status])).toEqual([
      ['payments', 'FAILED'],
      ['devices', 'SUCCEEDED'],
    ]);
    expect(lines.err).toEqual([
      expect.stringMatching(
        /^✗ backfill payments FAILED with Strata\.BadInput: .*schema registry .* is not valid JSON/
      ),
    ]);
    expect(backfillProblems(runs)).toEqual([
      expect.stringMatching(/^payments: the execution failed with Strata\.BadInput: /),
    ]);
    const devices = runs[1]?.status === 'SUCCEEDED' ? runs[1].summary : undefined;
    expect(devices?.silverRows).toBeGreaterThan(0);
    const n = (value = 0) => value.toLocaleString('en-US');
    const cells = backfillTable(runs)
      .split('\n')
      .slice(2)
      .map((line) => line.split(/\s+/));
    expect(cells).toEqual([
      ['payments', '–', '–', '–', '–', '–', 'FAILED'],
      [
        'devices',
        '1',
        n(devices?.report.recordsRead),
        n(devices?.report.rowsWritten),
        n(devices?.report.recordsQuarantined),
        n(devices?.silverRows),
        '✓',
      ],
    ]);
  });

  it('leaves out objects a live batch of another run holds, and says so', async () => {
    // Prepare
    const backlog = await generateBacklog({
      store: runtime.store,
      targetBytes: 64 * 1024,
      feeds: ['refunds'],
    });
    const held = backlog.objects.filter((object) =>
      object.key.startsWith('raw/refunds/all_historical_files/')
    );
    await runtime.ledger.claim(
      held[0]?.key ?? '',
      'interrupted-refunds-000000',
      new Date(),
      60_000
    );

    // Act
    const runs = await backfillFeeds(runtime, local.executions, ['refunds'], capture().write);

    // Assess
    expect(runs[0]?.status === 'SUCCEEDED' && runs[0].summary.plan.held).toBe(1);
    expect(backfillProblems(runs)).toEqual([
      'refunds: 1 object(s) left out, held by a live batch of another run; a rerun takes them over if that run dies and its lease lapses',
    ]);
    expect(backfillTable(runs)).toMatch(/^refunds .* ✗$/m);
  });

  it('takes over objects whose batch died, and says what it retried', async () => {
    // Prepare: a batch of a killed run claimed an object; its lease has lapsed
    const backlog = await generateBacklog({
      store: runtime.store,
      targetBytes: 64 * 1024,
      feeds: ['returns'],
    });
    const [left] = backlog.objects.filter((object) =>
      object.key.startsWith('raw/returns/all_historical_files/')
    );
    await runtime.ledger.claim(left?.key ?? '', 'killed-returns-000000', new Date(), 0);

    // Act
    const runs = await backfillFeeds(runtime, local.executions, ['returns'], capture().write);

    // Assess
    const summary = runs[0]?.status === 'SUCCEEDED' ? runs[0].summary : undefined;
    expect(summary?.report.objects).toMatchObject({ retried: 1, failed: 0, stranded: 0 });
    expect(backfillProblems(runs)).toEqual([]);
    expect(backfillSection(runs, 1000)).toMatch(
      /^returns: retried 1 object\(s\) earlier batches failed or left, finished 0 batch\(es\)/m
    );
    expect(backfillSection(runs, 1000)).toMatch(
      /^returns: \d+\.\d% of (about )?[\d,]+ leaves typed \(.*; widest shape: \d+ top-level key/m
    );
    const entry = (await runtime.ledger.getMany([left?.key ?? ''])).get(left?.key ?? '');
    expect(entry).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
  });
});

describe('Function: firstBatchFailure', () => {
  it('tells what the first failed batch of a run failed with, from the ledger', async () => {
    // Prepare: a run of two batches whose second failed on a full disk
    const runId = 'first-failure';
    const batches = [['raw/payments/ff/a.jsonl'], ['raw/payments/ff/b.jsonl']];
    await runtime.store.put(
      planKey('payments', runId),
      batches
        .map((keys, n) =>
          JSON.stringify({
            batchId: `${runId}-payments-00000${n}`,
            objects: keys.map((key) => ({ key, size: 1 })),
          })
        )
        .join('\n')
    );
    const now = new Date();
    const [[ok], [failing]] = batches as [[string], [string]];
    await runtime.ledger.claim(ok, `${runId}-payments-000000`, now, 60_000);
    await runtime.ledger.claim(failing, `${runId}-payments-000001`, now, 60_000);
    const error = 'Strata.Terminal: disk full: no space left on the disk holding /tmp';
    await runtime.ledger.fail(failing, `${runId}-payments-000001`, error, now);

    // Act
    const told = await firstBatchFailure(runtime, 'payments', runId);

    // Assess
    expect(told).toBe(`batch ${runId}-payments-000001 failed with ${error}`);
  });

  it('tells nothing when the run left no plan', async () => {
    // Act
    const told = await firstBatchFailure(runtime, 'payments', 'never-planned');

    // Assess
    expect(told).toBeUndefined();
  });
});
