import { bronzeToSilverInputSchema, runBronzeToSilver } from '@strata/core/bronze-to-silver';
import { loadConfig, parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import type { Context } from 'aws-lambda';
import { awsPlatform } from './_shared/aws.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler, sum } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** BronzeToSilver: types, deduplicates and upserts this run's bronze into silver. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'bronze-to-silver',
    async (event, context: Context) => {
      const input = parseOrThrow(bronzeToSilverInputSchema, event, 'bronze-to-silver input');
      const { store, catalog } = platform();
      const config = await loadConfig(store);
      return DuckDbEngine.use(engineOptions(context), (engine) =>
        runBronzeToSilver(input, { store, catalog, engine, config })
      );
    },
    (result) => ({
      rows: sum(result.datasets.map((d) => d.rowsOut)),
      quarantined: sum(result.datasets.map((d) => d.rowsQuarantined)),
    })
  );

export const handler = createHandler(awsPlatform);
