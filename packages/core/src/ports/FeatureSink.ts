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

/** A record to remove from the store: its identifier, and the removal's event time. */
export interface FeatureDeletion {
  recordId: string;
  eventTime: string;
}

/** What one `deleteRecords` call did. */
export interface DeleteRecordsResult {
  deleted: number;
  retried: number;
  /** Deletions not done, with the error that stopped each. */
  failed: { deletion: FeatureDeletion; error: { name: string; message: string } }[];
}

/** The feature store (SageMaker Feature Store in AWS, the lake plus a local table locally). */
export interface FeatureSink {
  /**
   * Writes records to the group; a record with the same identifier and event time overwrites.
   * A record that cannot be written comes back in `failed`; the call rejects only when nothing
   * could be written for a reason a later retry may mend (the service unavailable).
   */
  putRecords(featureGroup: string, records: readonly FeatureRecord[]): Promise<PutRecordsResult>;

  /**
   * Soft-deletes records, as SageMaker's DeleteRecord does: the online store no longer returns
   * them, and the offline store gets a marker row (`is_deleted` true, the removal's event time,
   * every other feature null). Fails and rejects as `putRecords` does.
   */
  deleteRecords(
    featureGroup: string,
    deletions: readonly FeatureDeletion[]
  ): Promise<DeleteRecordsResult>;
}
