import { parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { runSilverToGold, silverToGoldInputSchema } from '@strata/core/silver-to-gold';
import type { Context } from 'aws-lambda';
import { awsPlatform } from './_shared/aws.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler, sum } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** SilverToGold: rebuilds every gold model from the current silver tables. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'silver-to-gold',
    async (event, context: Context) => {
      const input = parseOrThrow(silverToGoldInputSchema, event, 'silver-to-gold input');
      const { store, catalog } = platform();
      return DuckDbEngine.use(engineOptions(context), (engine) =>
        runSilverToGold(input, { store, catalog, engine })
      );
    },
    (result) => ({ rows: sum(result.models.map((m) => m.rows)) })
  );

export const handler = createHandler(awsPlatform);
