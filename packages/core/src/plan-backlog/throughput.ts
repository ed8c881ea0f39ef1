import type { ObjectStore } from '../ports/index.js';

/**
 * FlattenBatch's Lambda timeout (stacks/backfill.ts). Map children run STANDARD, so this, not
 * EXPRESS's five minutes, is what ends a batch (docs/batch-limits.md).
 */
export const FLATTEN_TIMEOUT_SECONDS = 900;

/** A batch is planned to end within half its limit: measured rates vary between runs. */
export const BATCH_BUDGET_SECONDS = FLATTEN_TIMEOUT_SECONDS / 2;

/**
 * Planned bytes per second a batch is assumed to flatten when its feed was never measured: the
 * slowest case measured here, small files at 5 MiB/s of JSON on one thread, gzip at up to ~8:1,
 * which makes about 0.6 MiB of planned (compressed) bytes per second. 450 s of that is 270 MiB, so
 * the planner's 256 MiB target binds until a run of the feed measures something slower.
 */
export const DEFAULT_BYTES_PER_SECOND = 0.6 * 1024 ** 2;

/** A feed's flatten rate as its last backfill run measured it. */
export interface Throughput {
  feed: string;
  runId: string;
  /** Planned bytes (compressed for gzip) per second of a child execution. */
  bytesPerSecond: number;
  /** How it was taken: the bytes over the time of the run's batches that ran long enough. */
  basis: 'batches together';
  /** The batches measured. */
  batches: number;
}

/** Where Reconcile keeps a feed's measured throughput for the next plan. */
export const throughputKey = (feed: string) => `_backfill/${feed}/throughput.json`;

/**
 * The rate to plan a feed's batches with: its last run's measurement, or the default.
 *
 * @example
 * const rate = await planningRate(store, 'clickstream');
 *
 * @param store - the lake
 * @param feed - the feed to plan
 */
export const planningRate = async (
  store: ObjectStore,
  feed: string
): Promise<{ bytesPerSecond: number; measured: boolean }> => {
  const body = await store.get(throughputKey(feed));
  const measured = body
    ? (JSON.parse(new TextDecoder().decode(body)) as Partial<Throughput>).bytesPerSecond
    : undefined;
  return typeof measured === 'number' && measured > 0
    ? { bytesPerSecond: measured, measured: true }
    : { bytesPerSecond: DEFAULT_BYTES_PER_SECOND, measured: false };
};
