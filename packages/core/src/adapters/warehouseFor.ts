import type { StrataConfig } from '../config/index.js';
import type { Warehouse } from '../ports/index.js';
import { DuckDbWarehouse } from './DuckDbWarehouse.js';

/**
 * The warehouse adapter the config asks for.
 *
 * @param config - the validated config
 */
export const warehouseFor = (config: StrataConfig): Warehouse =>
  new DuckDbWarehouse({ path: config.warehouse.path, database: config.warehouse.database });
