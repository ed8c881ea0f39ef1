import { parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { flattenBatchInputSchema, runFlattenBatch } from '@strata/core/flatten';
import { awsPlatform } from './_shared/aws.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** Flattening defaults: `a_b_c` names, three levels deep, partitioned by DATE and MODE. */
const FLATTEN = {
  separator: '_',
  maxDepth: 3,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: false,
};

/** FlattenBatch: one planned batch of raw nested JSON to partitioned silver Parquet. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler('flatten-batch', async (event) => {
    const input = parseOrThrow(flattenBatchInputSchema, event, 'flatten-batch input');
    const { store, ledger } = platform();
    return DuckDbEngine.use(engineOptions(), (engine) =>
      runFlattenBatch(input, { store, engine, ledger, options: FLATTEN })
    );
  });

export const handler = createHandler(awsPlatform);
