export { assertRunId, datePartition, Lake } from './layout.js';
export { writeParquetObject } from './parquet.js';
