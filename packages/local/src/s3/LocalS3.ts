import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

/** s3rver accepts only these credentials when it checks request signatures. */
export const LOCAL_S3_CREDENTIALS = {
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
} as const;

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
    const server = new S3rver({
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
