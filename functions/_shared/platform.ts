import type { StrataConfig } from '@strata/core/config';
import type {
  BreakerSettings,
  Catalog,
  CircuitBreaker,
  DeadLetterQueue,
  FeatureGroups,
  FeatureSink,
  Ledger,
  Notifier,
  ObjectStore,
  Warehouse,
  WatermarkStore,
} from '@strata/core/ports';

/**
 * The adapters a handler runs on: AWS in Lambda, the embedded runtime on a laptop.
 *
 * Handlers are built from a platform so the local runtime executes the very same handler code
 * (input parsing, middleware, core call) with local stand-ins only where AWS has no emulator.
 */
export interface Platform {
  store: ObjectStore;
  watermarks: WatermarkStore;
  ledger: Ledger;
  /** Where analysts find the lake's tables: Glue for Athena, a DuckDB file locally. */
  catalog: Catalog;
  warehouse(config: StrataConfig): Promise<Warehouse>;
  featureSink(): FeatureSink;
  /** Where feature-ingest sends the records it gives up on. */
  featureDeadLetters(): DeadLetterQueue;
  featureGroup(config: StrataConfig): string;
  /** The feature store's control plane, for the health check. */
  featureGroups(): FeatureGroups;
  /** The operators' alert topic. */
  notifier(): Notifier;
  /** The breaker of one dependency (`warehouse`, `feature-store`), its state in DynamoDB. */
  breaker(circuit: string, settings: BreakerSettings): CircuitBreaker;
}

/** A platform built on first use, so importing a handler module has no side effects. */
export type PlatformProvider = () => Platform;
