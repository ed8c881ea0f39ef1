import { readFile } from 'node:fs/promises';
import { weekPrefix } from '@strata/core/plan-backlog';
import type { ReconcileResult } from '@strata/core/reconcile';
import type { CliOutput } from './backfillFeeds.js';
import { count } from './format.js';

/** The feeds config/strata.json configures: what a deployed weekly schedule syncs too. */
const configuredFeeds = async (): Promise<string[]> => {
  const config = JSON.parse(
    await readFile(new URL('../../../../config/strata.json', import.meta.url), 'utf8')
  ) as { feeds?: Record<string, unknown> };
  return Object.keys(config.feeds ?? {});
};

/**
 * The weekly-sync execution's input for the ISO week of `day`: the feeds (`--feeds`, else the
 * configured ones) and the time the schedule would start it, a week after the day, since the
 * schedule syncs the week before its time.
 *
 * @param feeds - the `--feeds` option, if given
 * @param day - a date in the week to sync
 */
export const weeklySyncInput = async (feeds: string | undefined, day: Date) => ({
  feeds: feeds === undefined ? await configuredFeeds() : feeds.split(','),
  scheduledTime: new Date(day.getTime() + 7 * 86_400_000).toISOString(),
});

/**
 * Says what a weekly-sync's output reports: one line per feed, and a warning for a week with
 * no objects, which is not passed over in silence.
 *
 * @param output - the execution's output
 * @param day - a date in the synced week
 * @param lake - where report keys are, e.g. `s3://strata-lake/`
 * @param write - where lines go
 */
export const weeklySyncReport = (output: unknown, day: Date, lake: string, write: CliOutput) => {
  const { feedRuns } = output as {
    feedRuns: { feed: string; plan: { objects: number }; report: ReconcileResult }[];
  };
  for (const { feed, plan, report } of feedRuns) {
    if (plan.objects === 0) {
      write.err(`⚠ weekly-sync ${weekPrefix(feed, day)}: no objects to sync`);
      continue;
    }
    write.out(
      `weekly-sync ${weekPrefix(feed, day)}: ${plan.objects} object(s), ${report.batches.succeeded} batch(es), ${count(report.recordsRead)} records read = ${count(report.rowsWritten)} rows written + ${count(report.recordsQuarantined)} quarantined; ${report.batches.failed + report.batches.pending} failed batch(es); report ${lake}${report.reportKey}`
    );
  }
};
