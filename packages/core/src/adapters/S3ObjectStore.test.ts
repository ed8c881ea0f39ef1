import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe } from 'vitest';
// s3rver is the local S3 emulator; the contract runs the real AWS adapter against it.
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '../../../local/src/s3/LocalS3.js';
import type { ObjectStore } from '../ports/ObjectStore.js';
import { objectStoreContract } from '../ports/objectStoreContract.js';
import { S3ObjectStore } from './S3ObjectStore.js';

const BUCKET = 'contract-lake';

let dir: string;
let s3: LocalS3 | undefined;
let client: S3Client | undefined;
let store: S3ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-s3-contract-'));
  s3 = await LocalS3.start({ directory: dir, buckets: [BUCKET] });
  client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: LOCAL_S3_CREDENTIALS,
  });
  store = new S3ObjectStore({ bucket: BUCKET, client });
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Class: S3ObjectStore', () => {
  describe.each<[string, () => ObjectStore]>([['S3ObjectStore on s3rver', () => store]])(
    '%s',
    (name, factory) => {
      objectStoreContract(name, factory);
    }
  );
});
