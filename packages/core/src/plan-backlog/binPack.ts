import { rangesOf } from '../flatten/lineRange.js';

/** One raw object, or a byte range of one, as a batch carries it. */
export interface PlannedObject {
  key: string;
  size: number;
  /** Inclusive start, exclusive end; a reader aligns both to line boundaries. */
  range?: [number, number];
  /** The length of each of the object's ranges ({@link rangesOf}). */
  step?: number;
  /** Why no batch can read it within its limit: it goes to quarantine whole, unread. */
  tooLarge?: string;
}

/** A batch of raw objects that one FlattenBatch invocation processes. */
export interface PlannedBatch {
  batchId: string;
  bytes: number;
  objects: PlannedObject[];
}

export interface BinPackOptions {
  /** Close a batch before it would exceed this many bytes. */
  targetBytes: number;
  /** Close a batch at this many objects. */
  maxFiles: number;
  /**
   * Close a batch before its JSON line would pass this many bytes: the line becomes a
   * Distributed Map child's input, which Step Functions caps at 256 KiB, and object keys run to
   * 1 KiB, so a file cap alone does not bound it.
   */
  maxItemBytes?: number;
  /** Batch ids are `<prefix>-<n>`, numbered in listing order, so a plan is reproducible. */
  batchIdPrefix: string;
  /** Cut oversized line-delimited objects into byte ranges, a batch each. */
  splitOversized?: boolean;
  /** Why an object that cannot be cut is too large for one batch, if it is. */
  tooLarge?: (object: { key: string; size: number }) => string | undefined;
}

/** Line-delimited, uncompressed JSON can be cut at any line; gzip and JSON arrays cannot. */
export const isSplittable = (key: string): boolean => /\.(jsonl|ndjson)$/i.test(key);

/**
 * Next-fit bin packing over a stream of objects: each batch is closed as soon as the next
 * object would overflow it, so only one open batch is ever held in memory (first-fit-decreasing
 * packs tighter but needs every object sorted in memory, which 2,000,000 keys rule out).
 *
 * An object larger than the target gets a batch of its own, or (with `splitOversized`, for
 * formats that can be cut at lines) several, each a byte range of about the target size. One
 * that cannot be cut and that `tooLarge` rejects is planned alone with the reason, for its batch
 * to quarantine it unread instead of being stopped midway by its time limit.
 *
 * @param objects - the listing, in order
 * @param options - target size, file and line caps, id prefix
 */
export async function* binPack(
  objects: AsyncIterable<{ key: string; size: number }>,
  options: BinPackOptions
): AsyncIterable<PlannedBatch> {
  let n = 0;
  const id = () => `${options.batchIdPrefix}-${String(n++).padStart(6, '0')}`;
  let open: PlannedBatch | undefined;
  /** The open batch's JSON line in bytes, counting `bytes` at the most digits it can have. */
  let openItemBytes = 0;
  const lineBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const emptyItemBytes = lineBytes({ batchId: id(), bytes: options.targetBytes, objects: [] });
  n = 0;
  for await (const object of objects) {
    if (object.size > options.targetBytes) {
      if (open) yield open;
      open = undefined;
      if (options.splitOversized && isSplittable(object.key)) {
        for (const range of rangesOf(object.size, options.targetBytes)) {
          yield {
            batchId: id(),
            bytes: range[1] - range[0],
            objects: [{ key: object.key, size: object.size, range, step: options.targetBytes }],
          };
        }
      } else {
        const tooLarge = options.tooLarge?.(object);
        yield {
          batchId: id(),
          bytes: object.size,
          objects: [{ key: object.key, size: object.size, ...(tooLarge ? { tooLarge } : {}) }],
        };
      }
      continue;
    }
    const entry = { key: object.key, size: object.size };
    // One more object adds its JSON and a comma.
    const entryBytes = lineBytes(entry) + 1;
    if (
      open &&
      (open.bytes + object.size > options.targetBytes ||
        open.objects.length >= options.maxFiles ||
        openItemBytes + entryBytes > (options.maxItemBytes ?? Number.POSITIVE_INFINITY))
    ) {
      yield open;
      open = undefined;
    }
    if (!open) {
      open = { batchId: id(), bytes: 0, objects: [] };
      openItemBytes = emptyItemBytes;
    }
    open.objects.push(entry);
    open.bytes += object.size;
    openItemBytes += entryBytes;
  }
  if (open) yield open;
}
