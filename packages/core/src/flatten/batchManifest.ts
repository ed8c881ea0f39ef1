import { BadInputError } from '../errors/index.js';
import type { ObjectStore } from '../ports/index.js';
import type { BatchManifest } from './types.js';

/**
 * Reads the manifest of the Parquet parts a batch wrote, which its result names by key.
 *
 * @example
 * const { outputs } = await readBatchManifest(store, result.manifestKey);
 *
 * @param store - the lake
 * @param key - the result's `manifestKey`
 */
export const readBatchManifest = async (
  store: ObjectStore,
  key: string
): Promise<BatchManifest> => {
  const body = await store.get(key);
  if (!body) throw new BadInputError(`the batch manifest ${key} is missing`);
  return JSON.parse(new TextDecoder().decode(body)) as BatchManifest;
};
