import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { parseOrThrow } from '../config/index.js';
import type { Workspace } from '../engine/index.js';
import { BadInputError, TransientError } from '../errors/index.js';
import type { ObjectInfo, ObjectStore } from '../ports/index.js';

/**
 * Where S3 Inventory reports for the lake are delivered, inside the lake bucket. The planner
 * reads inventories only from here, which keeps its read access to the lake narrow.
 */
export const INVENTORY_PREFIX = '_inventory/';

/**
 * The fields of an inventory's `manifest.json` the planner uses (storage-inventory-location.html,
 * "Inventory manifest"): the data files, their MD5 and the CSV column order.
 */
const manifestSchema = z.object({
  sourceBucket: z.string().min(1),
  destinationBucket: z.string().min(1),
  fileFormat: z.string(),
  /** Column names in file order, e.g. `Bucket, Key, Size, LastModifiedDate, ETag`. */
  fileSchema: z.string().min(1),
  files: z.array(
    z.object({
      key: z.string().startsWith(INVENTORY_PREFIX),
      size: z.number().int().nonnegative(),
      MD5checksum: z.string().regex(/^[0-9a-f]{32}$/i),
    })
  ),
});

/**
 * The fields of one line of CSV, each plain or double-quoted with `""` standing for a quote.
 * S3 Inventory quotes every field and URL-encodes keys, so a record never spans lines.
 *
 * @param line - one record, without its line break
 */
export const parseCsvLine = (line: string): string[] => {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    let field = '';
    if (line[at] === '"') {
      at += 1;
      for (;;) {
        const close = line.indexOf('"', at);
        if (close < 0) throw new BadInputError(`inventory: unterminated quote in ${line}`);
        field += line.slice(at, close);
        at = close + 1;
        if (line[at] !== '"') break;
        field += '"';
        at += 1;
      }
    } else {
      const comma = line.indexOf(',', at);
      const end = comma < 0 ? line.length : comma;
      field = line.slice(at, end);
      at = end;
    }
    fields.push(field);
    if (at >= line.length) return fields;
    if (line[at] !== ',') throw new BadInputError(`inventory: stray text after a quote in ${line}`);
    at += 1;
  }
};

/**
 * An object key as S3 Inventory writes it in CSV: URL-encoded with a space as `+` (the form
 * encoding, so a literal `+` arrives as `%2B`).
 *
 * @param encoded - the Key field
 */
export const decodeInventoryKey = (encoded: string): string => {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    throw new BadInputError(`inventory: key ${encoded} is not URL-encoded`);
  }
};

/** The lines of a gzip file, streamed, checking the compressed bytes' MD5 at the end. */
async function* gzipLines(path: string, md5: string, key: string): AsyncIterable<string> {
  const hash = createHash('md5');
  const raw = createReadStream(path);
  const unzipped = raw.pipe(createGunzip());
  raw.on('data', (chunk) => hash.update(chunk));
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of unzipped) {
      const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) yield line.replace(/\r$/, '');
    }
  } catch (error) {
    throw new BadInputError(`inventory: ${key} is not a readable gzip file`, { cause: error });
  }
  rest += decoder.end();
  if (rest) yield rest.replace(/\r$/, '');
  if (hash.digest('hex') !== md5.toLowerCase()) {
    throw new TransientError(`inventory: ${key} does not match the manifest's MD5 ${md5}`);
  }
}

/**
 * The objects an S3 Inventory report lists under `prefix`, streamed: reads the report's
 * `manifest.json`, then each gzip CSV data file in turn (downloaded into the workspace and
 * removed once read), decodes each key and keeps current, non-deleted objects under the prefix.
 * Memory holds one line at a time, however many objects the inventory lists.
 *
 * @param store - the lake, which must hold both the report and the objects it lists
 * @param manifestKey - the report's manifest.json, under {@link INVENTORY_PREFIX}
 * @param prefix - only keys under it are yielded
 * @param ws - scratch space for one data file at a time
 */
export async function* inventoryObjects(
  store: ObjectStore,
  manifestKey: string,
  prefix: string,
  ws: Workspace
): AsyncIterable<ObjectInfo> {
  const body = await store.get(manifestKey);
  if (!body) throw new BadInputError(`inventory: no manifest at ${manifestKey}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw new BadInputError(`inventory: ${manifestKey} is not JSON`, { cause: error });
  }
  const manifest = parseOrThrow(manifestSchema, json, 'inventory manifest');
  if (manifest.fileFormat !== 'CSV') {
    throw new BadInputError(
      `inventory: ${manifestKey} is ${manifest.fileFormat}; only CSV inventories are read`
    );
  }
  const columns = manifest.fileSchema.split(',').map((name) => name.trim());
  const column = (name: string) => columns.indexOf(name);
  const [keyAt, sizeAt, latestAt, deleteMarkerAt] = [
    column('Key'),
    column('Size'),
    column('IsLatest'),
    column('IsDeleteMarker'),
  ];
  if (keyAt < 0 || sizeAt < 0) {
    throw new BadInputError(
      `inventory: ${manifestKey} must list Key and Size (its fileSchema is ${manifest.fileSchema})`
    );
  }
  for (const [n, file] of manifest.files.entries()) {
    const local = ws.path(`inventory-${n}.csv.gz`);
    await store.download(file.key, local);
    try {
      for await (const line of gzipLines(local, file.MD5checksum, file.key)) {
        if (!line) continue;
        const row = parseCsvLine(line);
        // A versioned inventory also lists older versions and delete markers: neither is data.
        if (latestAt >= 0 && row[latestAt] !== 'true') continue;
        if (deleteMarkerAt >= 0 && row[deleteMarkerAt] === 'true') continue;
        const key = decodeInventoryKey(row[keyAt] ?? '');
        if (!key.startsWith(prefix)) continue;
        const size = Number(row[sizeAt] || Number.NaN);
        if (!Number.isSafeInteger(size) || size < 0) {
          throw new BadInputError(`inventory: ${key} has no valid Size in ${file.key}`);
        }
        yield { key, size };
      }
    } finally {
      await rm(local, { force: true });
    }
  }
}
