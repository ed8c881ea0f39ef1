/** One feature record: feature name → value, as the Feature Store takes it. */
export type FeatureRecord = Record<string, string | number | null>;

/** The feature store (SageMaker Feature Store in AWS, the lake plus a local table locally). */
export interface FeatureSink {
  /** Writes records to the group; a record with the same identifier and event time overwrites. */
  putRecords(featureGroup: string, records: readonly FeatureRecord[]): Promise<{ written: number }>;
}
