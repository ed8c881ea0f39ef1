import { createHash } from 'node:crypto';
import type { ObjectStore } from '@strata/core/ports';

/** Every key under a prefix, sorted. */
export const keysUnder = async (store: ObjectStore, prefix: string): Promise<string[]> => {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys.sort();
};

/** sha256 of every object under a prefix, keyed by object key: a snapshot of a lake area. */
export const snapshot = async (
  store: ObjectStore,
  prefix: string
): Promise<Record<string, string>> => {
  const hashes: Record<string, string> = {};
  for (const key of await keysUnder(store, prefix)) {
    const body = await store.get(key);
    hashes[key] = createHash('sha256')
      .update(body ?? new Uint8Array())
      .digest('hex');
  }
  return hashes;
};
