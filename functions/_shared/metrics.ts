// The custom metrics every stage publishes (CloudWatch embedded metric format, through
// Powertools), and the names stacks/ builds its dashboard and alarms on. Imports nothing, so
// stacks/ can read it outside a Lambda.

/** The CloudWatch namespace of Strata's own metrics. */
export const METRICS_NAMESPACE = 'Strata';

/** The service dimension Powertools adds to every metric. */
export const METRICS_SERVICE = 'strata';

/** Metric names, each published with the dimensions `service` and `stage` (and `feed` too). */
export const STAGE_METRIC = {
  /** Milliseconds one invocation took, failed or not. */
  duration: 'StageDuration',
  /** Rows written (extracted, flattened, built, ingested). */
  rows: 'Rows',
  /** Source bytes planned or read. */
  bytes: 'Bytes',
  /** Records set aside in quarantine/ instead of written. */
  quarantined: 'QuarantinedRecords',
  /** Invocations that failed, any error. */
  failures: 'StageFailures',
  /** Invocations that failed a data-quality check (Strata.QualityFailed). */
  qualityFailures: 'QualityFailures',
} as const;

/** What one invocation measured, by the stage's own result. */
export interface StageMeasure {
  /** The feed or entity the counts are for, when the invocation had one. */
  feed?: string;
  rows?: number;
  bytes?: number;
  quarantined?: number;
}
