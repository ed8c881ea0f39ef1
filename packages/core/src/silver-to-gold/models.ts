import { readFile } from 'node:fs/promises';
import { BadInputError } from '../errors/index.js';

/** A gold SQL model and what its header declares. */
export interface SqlModel {
  name: string;
  grain: string;
  /** Silver entities the model reads, as `silver_<entity>` relations. */
  inputs: string[];
  sql: string;
}

/** The gold models silver-to-gold builds, in order. */
export const GOLD_MODELS = ['sales_summary', 'ml_features'] as const;
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
 * Loads a gold model from `models/gold/<name>.sql`.
 *
 * The path is relative to this module in the source tree and to the bundled handler in Lambda,
 * where stacks/pipeline copies `packages/core/src/models` next to it.
 *
 * @param name - the model's name
 */
export const loadGoldModel = async (name: GoldModelName): Promise<SqlModel> => {
  const sql = await readFile(new URL(`../models/gold/${name}.sql`, import.meta.url), 'utf8');
  return parseModel(name, sql);
};
