import type { LocalObject } from './types.js';

/**
 * The values of the lines staging sampled from the batch's JSON Lines files, each with its
 * object; a line that does not parse is left out (the batch's reads judge it).
 *
 * @param objects - the batch's staged objects
 */
export function* sampledRecords(
  objects: readonly LocalObject[]
): Generator<{ object: LocalObject; record: unknown }> {
  for (const object of objects) {
    for (const line of object.info.sample) {
      try {
        yield { object, record: JSON.parse(line.toString('utf8')) as unknown };
      } catch {}
    }
  }
}
