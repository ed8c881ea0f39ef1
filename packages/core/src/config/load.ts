import { BadInputError } from '../errors/index.js';
import type { ObjectStore } from '../ports/index.js';
import { configSchema, type StrataConfig } from './schema.js';
import { parseOrThrow } from './validate.js';

/** Where the deployed configuration lives in the lake. */
export const CONFIG_KEY = '_config/strata.json';

/**
 * Reads and validates the pipeline configuration from the lake.
 *
 * It is read per invocation, not bundled, so an operator can change queries without a deploy
 * and every stage of one execution sees the same validated shape.
 *
 * @param store - the lake
 */
export const loadConfig = async (store: ObjectStore): Promise<StrataConfig> => {
  const body = await store.get(CONFIG_KEY);
  if (!body) throw new BadInputError(`config: no configuration at s3 key ${CONFIG_KEY}`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw new BadInputError(
      `config: ${CONFIG_KEY} is not valid JSON (${(error as Error).message})`
    );
  }
  return parseOrThrow(configSchema, raw, 'config');
};
