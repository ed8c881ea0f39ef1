import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BadInputError, TerminalError } from '../errors/index.js';
import type { ObjectInfo, ObjectStore } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

export interface S3ObjectStoreOptions {
  bucket: string;
  client?: S3Client;
}

const translate = (error: unknown, action: string): Error =>
  translateAwsError(error, `s3 ${action}`);

/**
 * {@link ObjectStore} on Amazon S3 (and on s3rver locally, via `AWS_ENDPOINT_URL_S3`).
 *
 * @example
 * const store = new S3ObjectStore({ bucket: Resource.Lake.name });
 */
export class S3ObjectStore implements ObjectStore {
  readonly #bucket: string;
  readonly #client: S3Client;

  constructor(options: S3ObjectStoreOptions) {
    this.#bucket = options.bucket;
    // Local S3 servers only answer path-style requests; AWS itself needs no endpoint override.
    this.#client =
      options.client ?? new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw translate(error, `get ${key}`);
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

  async download(key: string, path: string): Promise<void> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (!(out.Body instanceof Readable)) throw new Error('response body is not a stream');
      await pipeline(out.Body, createWriteStream(path));
    } catch (error) {
      if (error instanceof NoSuchKey) {
        throw new BadInputError(`s3 download: no object at ${key}`, { cause: error });
      }
      throw translate(error, `download ${key}`);
    }
  }

  async upload(key: string, path: string, contentType?: string): Promise<void> {
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

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    try {
      const pages = paginateListObjectsV2(
        { client: this.#client },
        { Bucket: this.#bucket, Prefix: prefix }
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key) yield { key: object.Key, size: object.Size ?? 0 };
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
