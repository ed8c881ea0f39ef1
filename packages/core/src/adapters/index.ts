export {
  AdaptiveConcurrency,
  type AdaptiveConcurrencyOptions,
  type ItemOutcome,
} from './AdaptiveConcurrency.js';
export {
  type EngineColumn,
  evolveColumns,
  HIVE_NULL_PARTITION,
  partitionColumnNames,
} from './catalogRules.js';
export {
  DuckDbWarehouse,
  type DuckDbWarehouseOptions,
  describeStatement,
} from './DuckDbWarehouse.js';
export {
  DynamoDbCircuitBreaker,
  type DynamoDbCircuitBreakerOptions,
} from './DynamoDbCircuitBreaker.js';
export { DynamoDbLedger, type DynamoDbLedgerOptions } from './DynamoDbLedger.js';
export {
  DynamoDbWatermarkStore,
  type DynamoDbWatermarkStoreOptions,
} from './DynamoDbWatermarkStore.js';
export { GlueCatalog, type GlueCatalogOptions } from './GlueCatalog.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './S3ObjectStore.js';
export { SageMakerFeatureGroups } from './SageMakerFeatureGroups.js';
export { SageMakerFeatureSink, type SageMakerFeatureSinkOptions } from './SageMakerFeatureSink.js';
export { SnsNotifier } from './SnsNotifier.js';
export { SqsDeadLetterQueue, type SqsDeadLetterQueueOptions } from './SqsDeadLetterQueue.js';
export { translateAwsError } from './translateAwsError.js';
export { UNLOAD_PREFIX, type WarehouseDeps, warehouseFor } from './warehouseFor.js';
