import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../errors/index.js';
import type { ObjectStore } from '../ports/index.js';

/**
 * Waits a random while after a lost compare-and-swap, longer after each: writers that lost
 * together would otherwise meet again at once. At most 320 ms, since a rival's write takes
 * milliseconds.
 *
 * @param attempt - the attempt that lost, from 1
 */
export const raceBackoff = (attempt: number): Promise<void> =>
  sleep(Math.random() * 10 * 2 ** Math.min(attempt, 5));

/**
 * Read-modify-writes an object that other writers may change at the same time (a feed's schema
 * registry when two backfills reconcile at once): reads it with its entity tag, computes the new
 * body from what it read, and writes it only over that version. When another writer got there
 * first it reads again and recomputes, so that writer's change is merged instead of lost.
 *
 * @example
 * const etag = await updateObject(store, '_schemas/clicks/schema.json', (current) =>
 *   JSON.stringify(merge(current), null, 2)
 * );
 * @param store - the lake
 * @param key - the object to update
 * @param change - the new body, from the current one (`undefined` when there is none); it may
 *   run more than once
 * @param options - the content type, and how many lost races to take before giving up
 * @returns the entity tag of the version written
 */
export const updateObject = async (
  store: ObjectStore,
  key: string,
  change: (current: Uint8Array | undefined) => string | Uint8Array,
  options: { contentType?: string; attempts?: number } = {}
): Promise<string> => {
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const current = await store.getTagged(key);
    const written = await store.putIfMatch(
      key,
      change(current?.body),
      current?.etag,
      options.contentType
    );
    if (written !== undefined) return written;
    await raceBackoff(attempt);
  }
  throw new TransientError(`${key} kept changing under ${attempts} attempts to update it`);
};
