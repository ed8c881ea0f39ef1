/** One listed object. */
export interface ObjectInfo {
  key: string;
  size: number;
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
