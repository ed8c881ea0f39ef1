import type { StrataConfig } from '../config/index.js';
import type { ObjectStore, Warehouse } from '../ports/index.js';
import { DuckDbWarehouse } from './DuckDbWarehouse.js';

export interface WarehouseDeps {
  /** Reads a secret's value (Secrets Manager in AWS); never logged. */
  secret(id: string): Promise<string>;
  /** The lake, where a Snowflake unload stage writes its files. */
  store: ObjectStore;
}

/** The lake prefix a Snowflake unload stage's URL must point at. */
export const UNLOAD_PREFIX = '_unload/';

/**
 * The warehouse adapter the config asks for.
 *
 * The Snowflake driver is imported only when a Snowflake warehouse is configured, so handlers
 * that never extract do not pay for loading it at cold start.
 *
 * @param config - the validated config
 * @param deps - where secrets come from
 */
export const warehouseFor = async (
  config: StrataConfig,
  deps: WarehouseDeps
): Promise<Warehouse> => {
  const warehouse = config.warehouse;
  switch (warehouse.type) {
    case 'duckdb':
      return new DuckDbWarehouse({ path: warehouse.path, database: warehouse.database });
    case 'snowflake': {
      const { SnowflakeWarehouse } = await import('./snowflake/index.js');
      return new SnowflakeWarehouse({
        account: warehouse.account,
        username: warehouse.username,
        role: warehouse.role,
        warehouse: warehouse.warehouse,
        database: warehouse.database,
        schema: warehouse.schema,
        privateKey: () => deps.secret(warehouse.private_key_secret_id),
        maxRetries: config.max_retries,
        ...(warehouse.unload_stage
          ? {
              unload: {
                stage: warehouse.unload_stage,
                lakePrefix: UNLOAD_PREFIX,
                store: deps.store,
              },
            }
          : {}),
      });
    }
  }
};
