import { readFile } from 'node:fs/promises';
import { constants, gunzipSync } from 'node:zlib';
import type { Workspace } from '../engine/index.js';
import { BadInputError } from '../errors/index.js';
import type { ObjectInfo, ObjectStore } from '../ports/index.js';

/** How much of each of the run's first objects the planner reads: a ranged GET, never a batch. */
const HEAD_BYTES = 1024 ** 2;
/** The run's first objects the planner reads the head of. */
export const HEAD_OBJECTS = 3;

/**
 * The records of an object's first MiB: the whole objects on a line of their own, or the
 * elements of a JSON array that fits whole. None for an empty object (a range of it does not
 * exist) or one deleted since it was listed (an S3 Inventory report is a day old): its batch
 * finds out.
 */
const recordsOf = async (
  store: ObjectStore,
  object: ObjectInfo,
  file: string
): Promise<unknown[]> => {
  if (object.size === 0) return [];
  const whole = object.size <= HEAD_BYTES;
  const gone = await store.download(object.key, file, [0, HEAD_BYTES]).then(
    () => false,
    (error: unknown) => {
      if (error instanceof BadInputError) return true;
      throw error;
    }
  );
  if (gone) return [];
  let bytes: Buffer = await readFile(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // A cut gzip stream inflates as far as it goes.
    bytes = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (whole && text.trimStart().startsWith('[')) {
    try {
      const array = JSON.parse(text) as unknown;
      if (Array.isArray(array))
        return array.filter((item) => item !== null && typeof item === 'object');
    } catch {
      // Not a well-formed array: FlattenBatch's to judge.
    }
    return [];
  }
  const lines = text.split('\n');
  if (!whole) lines.pop();
  const records: unknown[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      records.push(JSON.parse(trimmed));
    } catch {
      // Not a record on a line of its own (a pretty-printed one, a broken one): FlattenBatch's.
    }
  }
  return records;
};

/**
 * The records at the head of a run's first objects (up to a MiB of each of the first
 * {@link HEAD_OBJECTS}, gzip inflated as far as that goes), in order: what the planner knows
 * of a feed before any batch has run. Lines that hold no whole record are left out.
 *
 * @example
 * const records = await headRecords(store, firstObjects, ws);
 *
 * @param objects - the run's first planned objects
 * @param ws - where the heads are downloaded
 */
export const headRecords = async (
  store: ObjectStore,
  objects: readonly ObjectInfo[],
  ws: Workspace
): Promise<unknown[]> => {
  const records: unknown[] = [];
  for (const [i, object] of objects.slice(0, HEAD_OBJECTS).entries()) {
    records.push(...(await recordsOf(store, object, ws.path(`head-${i}`))));
  }
  return records;
};
