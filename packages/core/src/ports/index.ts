export type {
  Catalog,
  CatalogColumn,
  CatalogColumnType,
  CatalogPartitionKey,
  CatalogTable,
  ListColumnType,
  ScalarColumnType,
  TableDefinition,
  TypedColumnType,
} from './Catalog.js';
export type { BreakerPermit, BreakerSettings, CircuitBreaker } from './CircuitBreaker.js';
export type { DeadLetter, DeadLetterQueue } from './DeadLetterQueue.js';
export type { FeatureGroupDescription, FeatureGroups } from './FeatureGroups.js';
export type {
  DeleteRecordsResult,
  FailedRecord,
  FeatureDeletion,
  FeatureRecord,
  FeatureSink,
  PutRecordsResult,
} from './FeatureSink.js';
export type { Claim, Ledger, LedgerEntry, LedgerStatus } from './Ledger.js';
export { isClaimable, isLapsed } from './Ledger.js';
export type { Notifier } from './Notifier.js';
export type { ObjectInfo, ObjectStore, TaggedObject } from './ObjectStore.js';
export type {
  BindValue,
  ColumnSpec,
  LineageColumn,
  QueryOptions,
  RowBatch,
  UnloadedFile,
  Warehouse,
} from './Warehouse.js';
export type { PendingRun, WatermarkState, WatermarkStore } from './WatermarkStore.js';
