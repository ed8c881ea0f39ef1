/** When a breaker opens and how long it stays open before it lets one probe through. */
export interface BreakerSettings {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /**
   * Seconds an open breaker refuses every call; after them one caller probes. A probe that has
   * not reported within another cool-down is presumed lost (its invocation died), and the next
   * caller probes instead.
   */
  cooldownSeconds: number;
}

/** One admitted call: report how the dependency answered, once. */
export interface BreakerPermit {
  /** The dependency answered (with data or with an error that is not an outage). */
  succeeded(): Promise<void>;
  /** The dependency failed in a way a retry may fix (Strata.Transient). */
  failed(): Promise<void>;
}

/**
 * A circuit breaker around one dependency, its state shared by every invocation (DynamoDB), so
 * a dependency that is down is not called by each Lambda in turn until each has burnt its
 * retries.
 */
export interface CircuitBreaker {
  /** Admits one call, or throws CircuitOpenError (Strata.Transient) while the breaker is open. */
  admit(): Promise<BreakerPermit>;
}
