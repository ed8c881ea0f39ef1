import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbLedger, DynamoDbWatermarkStore, S3ObjectStore } from '@strata/core/adapters';
import { LocalDynamoDb } from '@strata/local/dynamodb';
import { LocalS3 } from '@strata/local/s3';

/**
 * A real S3 API (s3rver) with one bucket and a real DynamoDB API (dynalite) with the watermark
 * and ledger tables, for tests that exercise the lake through the SDK.
 */
export interface LocalLake {
  dir: string;
  store: S3ObjectStore;
  watermarks: DynamoDbWatermarkStore;
  /** The backlog ledger, empty when the lake starts. */
  ledger: DynamoDbLedger;
  stop(): Promise<void>;
}

/**
 * Starts s3rver in a temporary directory with one bucket, and dynalite in memory, and returns
 * the real AWS adapters on them.
 *
 * @param bucket - the bucket to create
 */
export const startLocalLake = async (bucket = 'test-lake'): Promise<LocalLake> => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-lake-'));
  const s3 = await LocalS3.start({ directory: join(dir, 's3'), buckets: [bucket] });
  const dynamo = await LocalDynamoDb.start({
    tables: [
      { name: 'watermarks', key: 'query' },
      { name: 'ledger', key: 'object_key' },
    ],
  });
  const client = s3.client();
  return {
    dir,
    store: new S3ObjectStore({ bucket, client }),
    watermarks: new DynamoDbWatermarkStore({ tableName: 'watermarks', client: dynamo.client }),
    ledger: new DynamoDbLedger({ tableName: 'ledger', client: dynamo.client }),
    stop: async () => {
      await dynamo.stop();
      client.destroy();
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
};
