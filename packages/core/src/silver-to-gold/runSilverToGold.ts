import { z } from 'zod';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError } from '../errors/index.js';
import { assertRunId, Lake, writeParquetObject } from '../lake/index.js';
import type { ObjectStore } from '../ports/index.js';
import { GOLD_MODELS, loadGoldModel } from './models.js';

export const silverToGoldInputSchema = z.object({ runId: z.string().min(1) });

export interface SilverToGoldInput {
  runId: string;
}

export interface GoldModelResult {
  model: string;
  key: string;
  rows: number;
}

export interface SilverToGoldResult {
  models: GoldModelResult[];
}

export interface SilverToGoldDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
}

/**
 * Builds every gold model from the current silver tables.
 *
 * Each model reads `silver_<entity>` relations named in its header and is written whole to
 * `gold/<model>/data.parquet`, so a rerun replaces it.
 *
 * @param input - the run
 * @param deps - lake and engine
 */
export const runSilverToGold = async (
  input: SilverToGoldInput,
  deps: SilverToGoldDeps
): Promise<SilverToGoldResult> => {
  assertRunId(input.runId);
  const models = await Promise.all(GOLD_MODELS.map(loadGoldModel));
  return Workspace.use('silver-to-gold', async (ws) => {
    const inputs = [...new Set(models.flatMap((model) => model.inputs))];
    for (const entity of inputs) {
      const key = Lake.silverTable(entity);
      const local = ws.path(`silver-${entity}.parquet`);
      await deps.store.download(key, local).catch((error: unknown) => {
        const users = models.filter((model) => model.inputs.includes(entity)).map((m) => m.name);
        throw new BadInputError(
          `silver-to-gold: model(s) ${users.join(', ')} need silver.${entity}, but ${key} cannot be read (${(error as Error).message}); is "${entity}" among the extracted entities?`,
          { cause: error }
        );
      });
      await deps.engine.run(
        `create or replace view ${quoteIdentifier(`silver_${entity}`)} as select * from read_parquet(${quoteLiteral(local)})`
      );
    }
    const results: GoldModelResult[] = [];
    for (const model of models) {
      const key = Lake.goldModel(model.name);
      const rows = await writeParquetObject({ ...deps, ws }, model.sql, key);
      results.push({ model: model.name, key, rows });
    }
    return { models: results };
  });
};
