import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BadInputError, TerminalError } from '../errors/index.js';

/** A gold SQL model and what its header declares. */
export interface SqlModel {
  name: string;
  grain: string;
  /** Silver entities the model reads, as `silver_<entity>` relations. */
  inputs: string[];
  sql: string;
}

/** The gold models silver-to-gold builds, in order. */
export const GOLD_MODELS = ['sales_summary', 'customer_analytics', 'ml_features'] as const;
export type GoldModelName = (typeof GOLD_MODELS)[number];

const header = (sql: string, field: string): string | undefined =>
  new RegExp(`^--[ \\t]*${field}:[ \\t]*(.+)$`, 'm').exec(sql)?.[1]?.trim();

/**
 * Parses a model file: the header's `inputs:` line is the model's contract with silver.
 *
 * @param name - the model's name
 * @param sql - the file's text
 */
export const parseModel = (name: string, sql: string): SqlModel => {
  const inputs = header(sql, 'inputs');
  const grain = header(sql, 'grain');
  if (!inputs || !grain) {
    throw new BadInputError(`model ${name}: header must declare "-- grain:" and "-- inputs:"`);
  }
  return {
    name,
    grain,
    inputs: inputs.split(',').map((input) => input.trim().replace(/^silver\./, '')),
    sql,
  };
};

/**
 * Where the gold models are: `models/gold/` beside the deployed bundle (SST writes
 * `<fn>-src/bundle.mjs`, and stacks/lambdas.ts copies `packages/core/src/models` to `models/`
 * under that root), or in the source tree, one level up from this module.
 */
const MODEL_DIRS = [
  new URL('./models/gold/', import.meta.url),
  new URL('../models/gold/', import.meta.url),
];

/**
 * Loads a gold model from `models/gold/<name>.sql`, in the bundle or the source tree.
 *
 * @param name - the model's name
 * @throws TerminalError when neither place has the file: a build that left the models out,
 *   which no retry mends
 */
export const loadGoldModel = async (name: GoldModelName): Promise<SqlModel> => {
  for (const dir of MODEL_DIRS) {
    const sql = await readFile(new URL(`${name}.sql`, dir), 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
    if (sql !== undefined) return parseModel(name, sql);
  }
  throw new TerminalError(
    `model ${name}: ${name}.sql is in none of ${MODEL_DIRS.map((d) => fileURLToPath(d)).join(', ')}`
  );
};
