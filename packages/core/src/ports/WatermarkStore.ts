/** A run that has claimed a query and not yet committed its watermark. */
export interface PendingRun {
  runId: string;
  /** ISO time of the claim; an old claim belongs to a run that died. */
  since: string;
}

/** What Strata remembers per incremental query between runs. */
export interface WatermarkState {
  query: string;
  /** The highest watermark value extracted so far, as the warehouse returned it. */
  value?: string;
  /** Primary keys (JSON arrays) of the rows that carry exactly `value`: the tie set. */
  tieKeys: string[];
  /** The last run that committed, and its manifest: a replay of that run returns it as is. */
  committedRunId?: string;
  committedManifestKey?: string;
  pending?: PendingRun;
  /** Bumped on every write; writes are conditional on it. */
  version: number;
}

/**
 * Per-query watermarks (DynamoDB in AWS and locally, on dynalite).
 *
 * Every write is conditional on the version read, so two runs can never both advance a query.
 */
export interface WatermarkStore {
  get(query: string): Promise<WatermarkState | undefined>;
  /**
   * Writes `state` (with `version` = expected + 1) only if the stored version is still
   * `expectedVersion` (0 = no item yet); otherwise throws a `Strata.Transient` conflict.
   */
  put(state: WatermarkState, expectedVersion: number): Promise<void>;
}
