import { loadConfig, parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { flattenBatchInputSchema, flattenOptionsOf, runFlattenBatch } from '@strata/core/flatten';
import type { Context } from 'aws-lambda';
import { awsPlatform } from './_shared/aws.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** FlattenBatch: one planned batch of raw nested JSON to partitioned silver Parquet. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'flatten-batch',
    async (event, context: Context) => {
      const input = parseOrThrow(flattenBatchInputSchema, event, 'flatten-batch input');
      const { store, ledger } = platform();
      // A feed the configuration does not name is flattened with the defaults.
      const options = flattenOptionsOf((await loadConfig(store)).feeds[input.feed]);
      return DuckDbEngine.use(engineOptions(context), (engine) =>
        runFlattenBatch(input, { store, engine, ledger, options })
      );
    },
    (result) => ({
      feed: result.feed,
      rows: result.rowsWritten,
      quarantined: result.recordsQuarantined,
    })
  );

export const handler = createHandler(awsPlatform);
