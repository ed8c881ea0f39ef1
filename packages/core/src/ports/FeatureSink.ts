/** One feature record: feature name → value, as the Feature Store takes it. */
export type FeatureRecord = Record<string, string | number | null>;

/** A record the sink gave up on, with the error that stopped it. */
export interface FailedRecord {
  record: FeatureRecord;
  /** The last error's Strata name (`Strata.Transient` after retries ran out) and message. */
  error: { name: string; message: string };
}

/** What one `putRecords` call did. */
export interface PutRecordsResult {
  /** Records written. */
  written: number;
  /** Attempts that failed and were tried again (throttling, 5xx), whatever their end. */
  retried: number;
  /** Records not written: a per-record error, or retries that ran out. */
  failed: FailedRecord[];
}

/** The feature store (SageMaker Feature Store in AWS, the lake plus a local table locally). */
export interface FeatureSink {
  /**
   * Writes records to the group; a record with the same identifier and event time overwrites.
   * A record that cannot be written comes back in `failed`; the call rejects only when nothing
   * could be written for a reason a later retry may mend (the service unavailable).
   */
  putRecords(featureGroup: string, records: readonly FeatureRecord[]): Promise<PutRecordsResult>;
}
