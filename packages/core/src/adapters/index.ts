export {
  DuckDbWarehouse,
  type DuckDbWarehouseOptions,
  describeStatement,
} from './DuckDbWarehouse.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './S3ObjectStore.js';
export { SageMakerFeatureSink } from './SageMakerFeatureSink.js';
export { warehouseFor } from './warehouseFor.js';
