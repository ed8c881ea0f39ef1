import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { asDiskFull } from '@strata/core/errors';
import S3rver from 's3rver';

/** s3rver keeps the object `<key>` as the file `<bucket dir>/<key>._S3rver_object`. */
export const S3RVER_OBJECT_SUFFIX = '._S3rver_object';

/** s3rver accepts only these credentials when it checks request signatures. */
export const LOCAL_S3_CREDENTIALS = {
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
} as const;

/** An object as s3rver's controllers hand it to the store. */
interface S3rverObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  content: Buffer | NodeJS.ReadableStream;
}

/** s3rver's filesystem store, as far as this class reads and replaces it. */
interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: object, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/** An S3 error response, as the SDK parses it into an exception named by `Code`. */
const s3Error = (res: ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`
  );
};

/**
 * Writes an object to a temporary file beside its place and renames it there once written, then
 * its metadata: a GET never reads a half-written object.
 */
const writeObject = async (store: S3rverStore, object: S3rverObject, path: string) => {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.${randomUUID()}.partial`;
  const hash = createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(object.content)
    ? Readable.from([object.content])
    : (object.content as Readable);
  try {
    await pipeline(
      source,
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(partial)
    );
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
  }
  const md5 = hash.digest('hex');
  await store.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size, md5 };
};

/**
 * s3rver with the S3 behaviours Strata relies on that it gets wrong fixed on the way in.
 *
 * S3 reads `x-amz-copy-source` as a URL-encoded `bucket/key` and decodes every escape in it, so
 * clients encode the key whole (`a%2Bb%3D1.json` for `a+b=1.json`). s3rver decodes the header
 * with `decodeURI`, which leaves the escapes of reserved characters (`%2B`, `%3D`, `%2F`, `%24`…)
 * as they are, and answers NoSuchKey. Decoding the header as S3 does and encoding it again with
 * `encodeURI` gives s3rver a value its `decodeURI` turns back into the very key S3 would read.
 * Only the header changes: s3rver does not check SigV4 signatures, which would cover it.
 *
 * s3rver also ignores PutObject's `If-Match` and `If-None-Match`, so a compare-and-swap would
 * always win locally and a lost update pass every test; and it writes an object's file in
 * place and answers before the bytes are on disk (it resolves a Buffer's write at once, and a
 * stream's when the hash has seen it), so a GET during or right after a PUT reads a half-written
 * object, which S3 never shows. Objects are written to a temporary file and renamed into place
 * once written, and requests for
 * one key are queued here, and a conditional PUT is checked against the stored ETag before
 * s3rver sees it, answering as S3 does: 412 PreconditionFailed, or 404 NoSuchKey for If-Match
 * on a missing object.
 */
class S3CompatibleS3rver extends S3rver {
  /** The request each key's next GET or PUT waits for. */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(options: ConstructorParameters<typeof S3rver>[0]) {
    super(options);
    const store = this.#store;
    store.putObject = async (object) => {
      const path = store.getResourcePath(object.bucket, object.key, 'object');
      try {
        return await writeObject(store, object, path);
      } catch (error) {
        // S3 never runs out of room, the disk under a local lake does: the client is told which
        // (s3rver answers an exposed error's message with its InternalError, not a generic one).
        const named = await asDiskFull(error, options?.directory ?? dirname(path));
        if (named === error) throw error;
        throw Object.assign(new Error((named as Error).message), { expose: true });
      }
    };
  }

  get #store(): S3rverStore {
    return (this as unknown as { store: S3rverStore }).store;
  }

  override callback(): ReturnType<S3rver['callback']> {
    const handle = super.callback();
    return (request, response) => {
      // s3rver serves HTTP/1.1 only.
      const [req, res] = [request as IncomingMessage, response as ServerResponse];
      const source = req.headers['x-amz-copy-source'];
      if (typeof source === 'string') {
        try {
          req.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
        } catch {
          // Not a valid encoding: s3rver rejects it as it would have.
        }
      }
      const url = new URL(req.url ?? '/', 'http://s3');
      const [, bucket, ...key] = url.pathname.split('/');
      const objectRequest = bucket && key.length > 0 && !url.searchParams.has('uploadId');
      if (!objectRequest || (req.method !== 'PUT' && req.method !== 'GET')) {
        handle(req, res);
        return;
      }
      this.#inTurn(`${bucket}/${key.join('/')}`, res, async () => {
        const failure = await this.#precondition(
          req,
          bucket,
          key.map(decodeURIComponent).join('/')
        );
        if (!failure) return handle(req, res);
        // Read the body S3 would have refused, so the client sees the answer, not a reset.
        req.resume().once('end', () => s3Error(res, ...failure));
      });
    };
  }

  /** Runs `serve` after the key's earlier requests have answered; the next waits for this one. */
  #inTurn(key: string, res: ServerResponse, serve: () => unknown): void {
    const before = this.#writes.get(key) ?? Promise.resolve();
    const done = new Promise<void>((resolve) => res.once('close', resolve));
    const turn = before.then(() => done);
    this.#writes.set(key, turn);
    void turn.then(() => {
      if (this.#writes.get(key) === turn) this.#writes.delete(key);
    });
    void before.then(serve);
  }

  /** Why S3 would refuse this PUT's `If-Match` / `If-None-Match`, or nothing. */
  async #precondition(
    req: IncomingMessage,
    bucket: string,
    key: string
  ): Promise<[number, string, string] | undefined> {
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
    const etag = await this.#store.getMetadata(bucket, key).then(
      (metadata) => metadata.etag,
      () => undefined
    );
    if (ifNoneMatch === '*' && etag !== undefined) {
      return [
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
      ];
    }
    if (ifMatch !== undefined && etag === undefined) {
      return [404, 'NoSuchKey', 'The specified key does not exist.'];
    }
    if (ifMatch !== undefined && ifMatch !== etag) {
      return [
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
      ];
    }
    return undefined;
  }
}

export interface LocalS3Options {
  /** Where s3rver keeps objects. */
  directory: string;
  buckets: readonly string[];
  /** The port to listen on; a free one when unset or 0. */
  port?: number;
}

/**
 * An s3rver instance on 127.0.0.1 (a free port unless one is given), reached through the real
 * AWS SDK.
 *
 * s3rver crashes on truncated listings unless Node runs with `--openssl-legacy-provider`; the
 * npm scripts set it, and {@link LocalS3.start} refuses to start without it.
 */
export class LocalS3 {
  readonly endpoint: string;
  readonly #server: S3rver;
  #stopped = false;

  private constructor(server: S3rver, endpoint: string) {
    this.#server = server;
    this.endpoint = endpoint;
  }

  static async start(options: LocalS3Options): Promise<LocalS3> {
    if (
      !process.execArgv.includes('--openssl-legacy-provider') &&
      !(process.env.NODE_OPTIONS ?? '').includes('--openssl-legacy-provider')
    ) {
      throw new Error(
        'local S3 needs Node started with --openssl-legacy-provider (s3rver fails on paged listings without it); run through the npm scripts'
      );
    }
    const server = new S3CompatibleS3rver({
      address: '127.0.0.1',
      port: options.port ?? 0,
      silent: true,
      directory: options.directory,
      configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
    });
    const address = (await server.run()) as AddressInfo;
    return new LocalS3(server, `http://127.0.0.1:${address.port}`);
  }

  /** A new SDK client for this server: path-style, with the credentials it accepts. */
  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
    });
  }

  /** Stops the server, dropping idle keep-alive sockets so close does not wait on them. */
  async stop(): Promise<void> {
    // A test that takes S3 away mid-run stops it before the runtime's own stop does.
    if (this.#stopped) return;
    this.#stopped = true;
    const http = (this.#server as unknown as { httpServer?: Server }).httpServer;
    http?.closeAllConnections();
    await this.#server.close();
  }
}
