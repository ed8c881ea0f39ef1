import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '@strata/core/adapters';
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '@strata/local/s3';

/** A real S3 API (s3rver) with one bucket, for tests that exercise the lake through the SDK. */
export interface LocalLake {
  dir: string;
  store: S3ObjectStore;
  stop(): Promise<void>;
}

/**
 * Starts s3rver in a temporary directory with one bucket and returns the real S3 adapter on it.
 *
 * @param bucket - the bucket to create
 */
export const startLocalLake = async (bucket = 'test-lake'): Promise<LocalLake> => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-lake-'));
  const s3 = await LocalS3.start({ directory: join(dir, 's3'), buckets: [bucket] });
  const client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: LOCAL_S3_CREDENTIALS,
  });
  return {
    dir,
    store: new S3ObjectStore({ bucket, client }),
    stop: async () => {
      client.destroy();
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
};
