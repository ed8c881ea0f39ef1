import type { PlanBacklogResult } from '@strata/core/plan-backlog';
import type { ReconcileResult } from '@strata/core/reconcile';
import { type GeneratedBacklog, generateBacklog } from '@strata/local/backlog';
import { beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from './support/lake.js';
import { useEmbeddedRuntime } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);
const FEEDS = ['payments', 'devices'];
/** A Monday 02:00 UTC run, as the schedule fires: it syncs ISO week 2023-W04 (23-29 January). */
const SCHEDULED_TIME = '2023-01-30T02:00:00Z';
const weekOf = (feed: string) => `raw/${feed}/2023/week04/`;
let backlog: GeneratedBacklog;

/** One element of the weekly-sync's `feedRuns`: what BackfillWeek's ResultSelector keeps. */
interface FeedRun {
  feed: string;
  execution: string;
  plan: Omit<PlanBacklogResult, 'prefix'>;
  report: ReconcileResult;
}

const feedRunsOf = (outcome: unknown): FeedRun[] =>
  (outcome as { output: { feedRuns: FeedRun[] } }).output.feedRuns;

const run = (executionName: string, feeds = FEEDS, scheduledTime = SCHEDULED_TIME) =>
  suite.runtime.execute('weekly-sync', { executionName, input: { feeds, scheduledTime } });

beforeAll(async () => {
  backlog = await generateBacklog({
    store: suite.runtime.store,
    targetBytes: 1024 * 1024,
    seed: 9,
    feeds: FEEDS,
  });
});

describe('weekly-sync state machine (embedded runtime, backfill as a nested execution)', () => {
  it("flattens exactly each feed's previous ISO week and reconciles its counts", async () => {
    // Prepare
    const inWeek = (key: string) => FEEDS.some((feed) => key.startsWith(weekOf(feed)));
    const others = backlog.objects.filter((object) => !inWeek(object.key));

    // Act
    const outcome = await run('weekly-1');

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const runs = feedRunsOf(outcome);
    expect(runs.map((feedRun) => feedRun.feed)).toEqual(FEEDS);
    for (const feedRun of runs) {
      const truth = backlog.objects.filter((object) => object.key.startsWith(weekOf(feedRun.feed)));
      expect(truth.length, feedRun.feed).toBeGreaterThan(0);
      expect(feedRun.execution).toMatch(
        /^arn:aws:states:us-east-1:000000000000:execution:strata-local-backfill:[0-9a-f-]{36}$/
      );
      expect(feedRun.plan).toMatchObject({ objects: truth.length, skipped: 0 });
      expect(feedRun.report).toMatchObject({
        batches: { failed: 0, pending: 0 },
        recordsRead: truth.reduce((sum, o) => sum + o.records + o.malformed, 0),
        rowsWritten: truth.reduce((sum, o) => sum + o.records, 0),
        recordsQuarantined: truth.reduce((sum, o) => sum + o.malformed, 0),
      });
      const ledger = await suite.runtime.ledger.getMany(truth.map((object) => object.key));
      expect([...ledger.values()].map((entry) => entry.status)).toEqual(
        truth.map(() => 'SUCCEEDED')
      );
      expect(await keysUnder(suite.runtime.store, weekOf(feedRun.feed))).toEqual([]);
    }
    const untouched = await suite.runtime.ledger.getMany(others.map((object) => object.key));
    expect(untouched.size).toBe(0);
    const rawLeft = (
      await Promise.all(FEEDS.map((feed) => keysUnder(suite.runtime.store, `raw/${feed}/`)))
    ).flat();
    expect(rawLeft.sort()).toEqual(others.map((object) => object.key).sort());
  });

  it('finds nothing to do when the same week is synced again', async () => {
    // Act
    const outcome = await run('weekly-2');

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    for (const feedRun of feedRunsOf(outcome)) {
      expect(feedRun.plan).toMatchObject({ objects: 0, batches: 0 });
      expect(feedRun.report).toMatchObject({ rowsWritten: 0, recordsQuarantined: 0 });
    }
  });

  it('lets the other feeds finish when one fails, then alerts and dead-letters the run', async () => {
    // Prepare
    const drop = 'raw/payments/2023/week05/payments-late.jsonl';
    const events = ['2023-01-31', '2023-02-02'].map((date, i) =>
      JSON.stringify({ event_id: `late-${i}`, DATE: date, MODE: 'web', user: { id: i } })
    );
    await suite.runtime.store.put(drop, `${events.join('\n')}\n`);
    const deadLetters = suite.runtime.deadLetters.length;

    // Act
    const outcome = await run('weekly-3', ['Not-A-Feed', 'payments'], '2023-02-06T02:00:00Z');

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    const child = JSON.parse(outcome.status === 'FAILED' ? outcome.cause : '{}');
    expect(child).toMatchObject({
      Status: 'FAILED',
      Error: 'Strata.BadInput',
      StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:strata-local-backfill',
      Input: { feed: 'Not-A-Feed', week: { scheduledTime: '2023-02-06T02:00:00Z' } },
    });
    expect((await suite.runtime.ledger.getMany([drop])).get(drop)).toMatchObject({
      status: 'SUCCEEDED',
      rowsWritten: 2,
    });
    const sent = suite.runtime.deadLetters
      .slice(deadLetters)
      .map((letter) => JSON.parse(letter.body) as { stateMachine: string; error: string });
    expect(sent).toContainEqual(
      expect.objectContaining({
        stateMachine: 'strata-local-weekly-sync',
        error: 'States.TaskFailed',
      })
    );
    expect(suite.runtime.alerts.map((alert) => alert.subject)).toContain(
      'Strata weekly sync failed'
    );
  });
});
