import { open, rm, writeFile } from 'node:fs/promises';
import type { ObjectStore } from '../ports/index.js';

/** Bytes read at a time while looking for the end of a line that crosses a range's edge. */
const PROBE_BYTES = 64 * 1024;

/**
 * The byte ranges an object of `size` bytes is planned in, `step` bytes each (the last one
 * shorter): PlanBacklog cuts them, and FlattenBatch finds a range's siblings with them.
 *
 * @param size - the object's bytes
 * @param step - each range's bytes
 */
export const rangesOf = (size: number, step: number): [number, number][] =>
  Array.from({ length: Math.ceil(size / step) }, (_, k) => [
    k * step,
    Math.min(size, (k + 1) * step),
  ]);

/** The range's key in the ledger and in lineage: the object's, with the planned bytes. */
export const rangeKey = (key: string, range: readonly [number, number]): string =>
  `${key}#bytes=${range[0]}-${range[1]}`;

/**
 * The position of the first newline at or after `from` in the object, or its size if there is
 * none: read a probe at a time, so a line of any length is followed to its end.
 */
const newlineFrom = async (
  store: ObjectStore,
  key: string,
  from: number,
  size: number,
  probe: string
): Promise<number> => {
  for (let at = from; at < size; at += PROBE_BYTES) {
    await store.download(key, probe, [at, Math.min(size, at + PROBE_BYTES)]);
    const handle = await open(probe, 'r');
    try {
      const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(PROBE_BYTES) });
      const found = buffer.subarray(0, bytesRead).indexOf(0x0a);
      if (found >= 0) return at + found;
    } finally {
      await handle.close();
      await rm(probe, { force: true });
    }
  }
  return size;
};

/**
 * Downloads the lines of a JSON Lines object that start within bytes `[start, end)`, whole:
 * the line the range opens inside belongs to the range before, and the line it closes inside
 * is followed past `end` to its newline. Ranges that tile an object so give each line to exactly
 * one of them, and a range inside one long line gets none (an empty file).
 *
 * @param store - the lake
 * @param object - the object's key and size, and the planned range
 * @param path - where the lines go
 */
export const downloadLineRange = async (
  store: ObjectStore,
  object: { key: string; size: number; range: readonly [number, number] },
  path: string
): Promise<void> => {
  const { key, size, range } = object;
  const probe = `${path}.probe`;
  const first = range[0] === 0 ? 0 : (await newlineFrom(store, key, range[0] - 1, size, probe)) + 1;
  if (first >= range[1]) {
    await writeFile(path, '');
    return;
  }
  const stop = Math.min(size, (await newlineFrom(store, key, range[1] - 1, size, probe)) + 1);
  await store.download(key, path, [first, stop]);
};
