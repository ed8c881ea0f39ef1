import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { asDiskFull, BadInputError, TerminalError } from '../errors/index.js';
import { eachLimited } from '../lake/eachLimited.js';
import type { ObjectInfo, ObjectStore, TaggedObject } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

const MiB = 1024 * 1024;

export interface S3ObjectStoreOptions {
  bucket: string;
  client?: S3Client;
  /**
   * Objects larger than this are copied part by part (UploadPartCopy); default 5 GiB, the most
   * CopyObject accepts.
   */
  copyThreshold?: number;
  /**
   * The bytes each UploadPartCopy copies (at least 5 MiB, S3's smallest part); default 512 MiB,
   * raised for an object that would otherwise need more than S3's 10,000 parts.
   */
  copyPartSize?: number;
}

/** The most parts one multipart upload may have. */
const MAX_PARTS = 10_000;
/** Part copies in flight at once: each is one request S3 answers when its bytes are copied. */
const PART_COPIES = 8;

/** lib-storage's default part size: a smaller file is one part anyway. */
const SINGLE_PUT_BYTES = 5 * MiB;

const translate = (error: unknown, action: string): Error =>
  translateAwsError(error, `s3 ${action}`);

/**
 * `bucket/key` as `x-amz-copy-source` must carry it: URL-encoded, `/` kept between segments. The
 * SDK sends the value as given, and S3 answers NoSuchKey for a raw `+`, `%` or non-ASCII key.
 */
const copySourceOf = (bucket: string, key: string) =>
  `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

/**
 * {@link ObjectStore} on Amazon S3 (and on s3rver locally, via `AWS_ENDPOINT_URL_S3`).
 *
 * @example
 * const store = new S3ObjectStore({ bucket: Resource.Lake.name });
 */
export class S3ObjectStore implements ObjectStore {
  readonly #bucket: string;
  readonly #client: S3Client;
  readonly #copyThreshold: number;
  readonly #copyPartSize: number;

  constructor(options: S3ObjectStoreOptions) {
    this.#bucket = options.bucket;
    this.#copyThreshold = options.copyThreshold ?? 5 * 1024 * MiB;
    this.#copyPartSize = options.copyPartSize ?? 512 * MiB;
    // Local S3 servers only answer path-style requests; AWS itself needs no endpoint override.
    this.#client =
      options.client ?? new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getTagged(key))?.body;
  }

  async getTagged(key: string): Promise<TaggedObject | undefined> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      return {
        body: out.Body ? await out.Body.transformToByteArray() : new Uint8Array(),
        etag: out.ETag ?? '',
      };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw translate(error, `get ${key}`);
    }
  }

  /**
   * PutObject with `If-Match` (or `If-None-Match: *` for a new object). S3 answers a stale tag
   * 412 PreconditionFailed, an If-Match on a deleted object 404 NoSuchKey, and a conditional
   * write racing another 409 ConditionalRequestConflict: each means "read again".
   */
  async putIfMatch(
    key: string,
    body: string | Uint8Array,
    etag: string | undefined,
    contentType?: string
  ): Promise<string | undefined> {
    try {
      const out = await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        })
      );
      return out.ETag ?? '';
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      if (status === 412 || status === 409 || error instanceof NoSuchKey) return undefined;
      throw translate(error, `put ${key}`);
    }
  }

  async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
        })
      );
    } catch (error) {
      throw translate(error, `put ${key}`);
    }
  }

  async download(key: string, path: string, range?: readonly [number, number]): Promise<void> {
    if (range && range[1] <= range[0]) {
      await writeFile(path, '');
      return;
    }
    try {
      const out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range[0]}-${range[1] - 1}` } : {}),
        })
      );
      if (!(out.Body instanceof Readable)) throw new Error('response body is not a stream');
      await pipeline(out.Body, createWriteStream(path));
    } catch (error) {
      if (error instanceof NoSuchKey) {
        throw new BadInputError(`s3 download: no object at ${key}`, { cause: error });
      }
      throw await asDiskFull(translate(error, `download ${key}`), dirname(path));
    }
  }

  async upload(key: string, path: string, contentType?: string): Promise<void> {
    // A file below one part goes up as one PutObject from memory: lib-storage's stream
    // chunking cost 30–65% more CPU per file (400 small files), which adds up over a batch's
    // thousands of parts.
    if ((await stat(path)).size < SINGLE_PUT_BYTES) {
      return this.put(key, await readFile(path), contentType);
    }
    try {
      await new Upload({
        client: this.#client,
        params: {
          Bucket: this.#bucket,
          Key: key,
          Body: createReadStream(path),
          ContentType: contentType,
        },
      }).done();
    } catch (error) {
      throw translate(error, `upload ${key}`);
    }
  }

  /**
   * Copies with CopyObject, or part by part above the copy threshold. Neither sets encryption,
   * as put and upload do not: the copy takes the bucket's default (SSE-KMS with a bucket key).
   */
  async copy(from: string, to: string, size?: number): Promise<void> {
    return this.copyFrom(this.#bucket, from, to, size);
  }

  /**
   * {@link copy} from another bucket of the same S3 (a user's source read in place): the bytes
   * stay in S3, and the reader needs only GetObject on the source, never a write to it.
   *
   * @param bucket - the source bucket
   * @param from - the key in that bucket
   * @param to - the key in this store's bucket
   * @param size - the source's size, when a listing gave it
   */
  async copyFrom(bucket: string, from: string, to: string, size?: number): Promise<void> {
    const action = `copy s3://${bucket}/${from} to ${to}`;
    const source = copySourceOf(bucket, from);
    try {
      // Only a copy in parts needs the head (its size, ETag and metadata); a known small size
      // goes straight to CopyObject, one request instead of two per object of a backfill.
      const head =
        size !== undefined && size <= this.#copyThreshold
          ? undefined
          : await this.#client.send(new HeadObjectCommand({ Bucket: bucket, Key: from }));
      if (head && (head.ContentLength ?? 0) > this.#copyThreshold) {
        await this.#copyInParts(source, to, head);
      } else {
        // CopyObject keeps the source's content type and metadata (MetadataDirective COPY).
        await this.#client.send(
          new CopyObjectCommand({ Bucket: this.#bucket, Key: to, CopySource: source })
        );
      }
    } catch (error) {
      // HeadObject says NotFound; CopyObject, for a source deleted since, NoSuchKey.
      if (error instanceof NotFound || error instanceof NoSuchKey) {
        throw new BadInputError(`s3 ${action}: no object at ${from}`, { cause: error });
      }
      throw translate(error, action);
    }
  }

  /**
   * Copies an object too large for CopyObject as a multipart upload of byte ranges, each part
   * only if the source still has the ETag the head saw (so no part comes from a newer version);
   * on failure the upload is aborted, and the bucket's lifecycle rule clears one whose abort failed.
   */
  async #copyInParts(source: string, to: string, head: HeadObjectCommandOutput): Promise<void> {
    const size = head.ContentLength ?? 0;
    const partSize = Math.max(this.#copyPartSize, Math.ceil(size / MAX_PARTS));
    const { UploadId } = await this.#client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.#bucket,
        Key: to,
        // A multipart upload starts with no metadata of its own: carry the source's over.
        ContentType: head.ContentType,
        ContentEncoding: head.ContentEncoding,
        Metadata: head.Metadata,
      })
    );
    const upload = { Bucket: this.#bucket, Key: to, UploadId };
    try {
      const starts = Array.from({ length: Math.ceil(size / partSize) }, (_, i) => i * partSize);
      const etags: (string | undefined)[] = [];
      await eachLimited(starts, PART_COPIES, async (start, i) => {
        const out = await this.#client.send(
          new UploadPartCopyCommand({
            ...upload,
            PartNumber: i + 1,
            CopySource: source,
            CopySourceIfMatch: head.ETag,
            CopySourceRange: `bytes=${start}-${Math.min(start + partSize, size) - 1}`,
          })
        );
        etags[i] = out.CopyPartResult?.ETag;
      });
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          ...upload,
          MultipartUpload: { Parts: starts.map((_, i) => ({ PartNumber: i + 1, ETag: etags[i] })) },
        })
      );
    } catch (error) {
      await this.#client.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    try {
      const pages = paginateListObjectsV2(
        { client: this.#client },
        { Bucket: this.#bucket, Prefix: prefix }
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key) {
            yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified };
          }
        }
      }
    } catch (error) {
      throw translate(error, `list ${prefix}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    // DeleteObjects takes at most 1,000 keys per request.
    for (let start = 0; start < keys.length; start += 1000) {
      const chunk = keys.slice(start, start + 1000);
      try {
        const out = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
          })
        );
        const failed = out.Errors ?? [];
        if (failed.length > 0) {
          throw new TerminalError(
            `s3 delete: ${failed.length} keys not deleted, first ${failed[0]?.Key}: ${failed[0]?.Message}`
          );
        }
      } catch (error) {
        throw translate(error, `delete ${chunk.length} keys`);
      }
    }
  }
}
