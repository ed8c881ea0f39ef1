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
 * A feed's flatten rate from one run's succeeded children: their planned bytes over their time,
 * together, among batches that ran at least {@link MIN_MEASURED_SECONDS} and processed
 * everything they were given (skipped objects would count bytes no time was spent on). Taken
 * together, not as the slowest batch's own rate: a small batch's time is mostly fixed costs
 * (measured here: 0.7 MB in 8.3 s beside 36 MB in 63 s), which would shrink every batch of the
 * next plan for nothing. Nothing when no batch qualifies: the plan keeps the rate it had.
 *
 * @param run - the feed and run
 * @param records - the map's SUCCEEDED records, with StartDate and StopDate
 */
export const measureThroughput = (
  run: { feed: string; runId: string },
  records: readonly TimedRecord[]
): Throughput | undefined => {
  const measured = records.flatMap((record) => {
    const result = JSON.parse(record.Output ?? '{}') as Partial<FlattenBatchResult>;
    const seconds = (Date.parse(record.StopDate ?? '') - Date.parse(record.StartDate ?? '')) / 1000;
    if (!(seconds >= MIN_MEASURED_SECONDS) || result.skipped !== 0) return [];
    return [{ bytes: plannedBytes(record.Input), seconds }];
  });
  if (measured.length === 0) return undefined;
  const total = (field: 'bytes' | 'seconds') =>
    measured.reduce((sum, batch) => sum + batch[field], 0);
  return {
    feed: run.feed,
    runId: run.runId,
    bytesPerSecond: total('bytes') / total('seconds'),
    basis: 'batches together',
    batches: measured.length,
  };
};
