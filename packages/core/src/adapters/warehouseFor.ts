import type { StrataConfig } from '../config/index.js';
import { TerminalError } from '../errors/index.js';
import type { Warehouse } from '../ports/index.js';
import { DuckDbWarehouse } from './DuckDbWarehouse.js';

/**
 * The warehouse adapter the config asks for.
 *
 * @param config - the validated config
 */
export const warehouseFor = (config: StrataConfig): Warehouse => {
  const warehouse = config.warehouse;
  switch (warehouse.type) {
    case 'duckdb':
      return new DuckDbWarehouse({ path: warehouse.path, database: warehouse.database });
    case 'snowflake':
      throw new TerminalError('warehouse: the Snowflake adapter is not wired in yet');
  }
};
