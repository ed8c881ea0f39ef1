export {
  classifySnowflakeError,
  SnowflakeFailure,
  translateSnowflakeError,
} from './errors.js';
export {
  type SnowflakeColumn,
  type SnowflakeConnection,
  type SnowflakeStatement,
  type SnowflakeUnloadTarget,
  SnowflakeWarehouse,
  type SnowflakeWarehouseOptions,
} from './SnowflakeWarehouse.js';
export { duckDbTypeOf, type SnowflakeColumnType, toJsonValue } from './types.js';
