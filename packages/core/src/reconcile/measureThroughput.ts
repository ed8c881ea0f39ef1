import type { FlattenBatchResult } from '../flatten/index.js';
import type { Throughput } from '../plan-backlog/index.js';

/**
 * Batches shorter than this say more about a function's start than about its rate: they are
 * left out of the measurement, which errs low (slower) on what it keeps.
 */
export const MIN_MEASURED_SECONDS = 5;

/** A succeeded child execution as the ResultWriter records it: input, output and its times. */
export interface TimedRecord {
  Input?: string;
  Output?: string;
  StartDate?: string;
  StopDate?: string;
}

/** Planned bytes of a map item: whole objects, or the byte ranges planned of them. */
const plannedBytes = (input: string | undefined) =>
  (
    (JSON.parse(input ?? '{}') as { objects?: { size: number; range?: [number, number] }[] })
      .objects ?? []
  ).reduce((total, o) => total + (o.range ? o.range[1] - o.range[0] : o.size), 0);

/**
 * A feed's flatten rate from one run's succeeded children: the slowest rate of a batch that
 * ran at least {@link MIN_MEASURED_SECONDS} and processed everything it was given (skipped
 * objects would count bytes no time was spent on). Nothing when no batch qualifies: the plan
 * keeps the rate it had.
 *
 * @param run - the feed and run
 * @param records - the map's SUCCEEDED records, with StartDate and StopDate
 */
export const measureThroughput = (
  run: { feed: string; runId: string },
  records: readonly TimedRecord[]
): Throughput | undefined => {
  const rates = records.flatMap((record) => {
    const result = JSON.parse(record.Output ?? '{}') as Partial<FlattenBatchResult>;
    const seconds = (Date.parse(record.StopDate ?? '') - Date.parse(record.StartDate ?? '')) / 1000;
    if (!(seconds >= MIN_MEASURED_SECONDS) || result.skipped !== 0) return [];
    return [plannedBytes(record.Input) / seconds];
  });
  if (rates.length === 0) return undefined;
  return {
    feed: run.feed,
    runId: run.runId,
    bytesPerSecond: Math.min(...rates),
    basis: 'slowest batch',
    batches: rates.length,
  };
};
