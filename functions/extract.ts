import { breakerSettings, guardWarehouse } from '@strata/core/breaker';
import { loadConfig, parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { extractInputSchema, runExtract } from '@strata/core/extract';
import type { Context } from 'aws-lambda';
import { awsPlatformWith } from './_shared/aws.js';
import { awsWarehouse } from './_shared/awsWarehouse.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** ExtractEntity: one configured query from the warehouse to bronze Parquet. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'extract',
    async (event, context: Context) => {
      const input = parseOrThrow(extractInputSchema, event, 'extract input');
      const { store, watermarks, warehouse: warehouseFor, breaker } = platform();
      const config = await loadConfig(store);
      const warehouse = guardWarehouse(
        await warehouseFor(config),
        breaker('warehouse', breakerSettings(config))
      );
      try {
        return await DuckDbEngine.use(engineOptions(context), (engine) =>
          runExtract(input, { store, warehouse, engine, config, watermarks })
        );
      } finally {
        await warehouse.close();
      }
    },
    (result) => ({ feed: result.entity, rows: result.rows })
  );

export const handler = createHandler(awsPlatformWith(awsWarehouse));
