import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

/** s3rver accepts only these credentials when it checks request signatures. */
export const LOCAL_S3_CREDENTIALS = {
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
} as const;

/**
 * s3rver with the one S3 behaviour Strata relies on that it gets wrong fixed on the way in.
 *
 * S3 reads `x-amz-copy-source` as a URL-encoded `bucket/key` and decodes every escape in it, so
 * clients encode the key whole (`a%2Bb%3D1.json` for `a+b=1.json`). s3rver decodes the header
 * with `decodeURI`, which leaves the escapes of reserved characters (`%2B`, `%3D`, `%2F`, `%24`…)
 * as they are, and answers NoSuchKey. Decoding the header as S3 does and encoding it again with
 * `encodeURI` gives s3rver a value its `decodeURI` turns back into the very key S3 would read.
 * Only the header changes: s3rver does not check SigV4 signatures, which would cover it.
 */
class S3CompatibleS3rver extends S3rver {
  override callback(): ReturnType<S3rver['callback']> {
    const handle = super.callback();
    return (req, res) => {
      const source = req.headers['x-amz-copy-source'];
      if (typeof source === 'string') {
        try {
          req.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
        } catch {
          // Not a valid encoding: s3rver rejects it as it would have.
        }
      }
      handle(req, res);
    };
  }
}

export interface LocalS3Options {
  /** Where s3rver keeps objects. */
  directory: string;
  buckets: readonly string[];
}

/**
 * An s3rver instance on 127.0.0.1 and a free port, reached through the real AWS SDK.
 *
 * s3rver crashes on truncated listings unless Node runs with `--openssl-legacy-provider`; the
 * npm scripts set it, and {@link LocalS3.start} refuses to start without it.
 */
export class LocalS3 {
  readonly endpoint: string;
  readonly #server: S3rver;

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
      port: 0,
      silent: true,
      directory: options.directory,
      configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
    });
    const address = (await server.run()) as AddressInfo;
    return new LocalS3(server, `http://127.0.0.1:${address.port}`);
  }

  /** Stops the server, dropping idle keep-alive sockets so close does not wait on them. */
  async stop(): Promise<void> {
    const http = (this.#server as unknown as { httpServer?: Server }).httpServer;
    http?.closeAllConnections();
    await this.#server.close();
  }
}
