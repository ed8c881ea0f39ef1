/** One listed object. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** When the object was last written, where the listing says (S3: to the second). */
  lastModified?: Date;
}

/** An object's bytes with the entity tag that names this version of it. */
export interface TaggedObject {
  body: Uint8Array;
  etag: string;
}

/**
 * The lake's object storage (S3 in AWS and locally, through s3rver).
 *
 * Keys are relative to the lake bucket. Every write replaces the whole object atomically, which
 * is what makes deterministic output names safe to retry.
 */
export interface ObjectStore {
  /** The object's bytes, or `undefined` when there is no such key. */
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** The object's bytes and its entity tag (S3's ETag), or `undefined` when there is no such key. */
  getTagged(key: string): Promise<TaggedObject | undefined>;
  /**
   * Writes the object only if it is still the version `etag` names, or with `etag` undefined
   * only if there is still no object: a compare-and-swap, for read-modify-writes that two
   * writers may run at once.
   *
   * @returns the new object's entity tag, or `undefined` (nothing written) when another writer
   *   changed or created the object since `etag` was read
   */
  putIfMatch(
    key: string,
    body: string | Uint8Array,
    etag: string | undefined,
    contentType?: string
  ): Promise<string | undefined>;
  /**
   * Streams the object, or the bytes `[start, end)` of it, into `path`; throws when the key is
   * missing. The range starts inside the object (or is empty); an end past the object's is cut.
   */
  download(key: string, path: string, range?: readonly [number, number]): Promise<void>;
  /** Streams the file at `path` into the object (multipart for large files). */
  upload(key: string, path: string, contentType?: string): Promise<void>;
  /**
   * Copies the object at `from` to `to` without its bytes leaving the store (S3 copies
   * server-side, whatever the size), keeping its content type; the copy is encrypted as every
   * new object in the bucket is.
   *
   * @param from - the source key; a missing one throws `Strata.BadInput`
   * @param to - the destination key, replaced whole if it exists
   * @param size - the source's size when the caller knows it (from a listing): spares a request
   */
  copy(from: string, to: string, size?: number): Promise<void>;
  /** Every object under `prefix`, page by page, never the whole listing in memory. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(keys: readonly string[]): Promise<void>;
}
