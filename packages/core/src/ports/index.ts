export type { FeatureRecord, FeatureSink } from './FeatureSink.js';
export type { ObjectInfo, ObjectStore } from './ObjectStore.js';
export type { ColumnSpec, RowBatch, Warehouse } from './Warehouse.js';
