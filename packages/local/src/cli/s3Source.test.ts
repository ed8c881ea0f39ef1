import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '@strata/core/adapters';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalS3 } from '../s3/LocalS3.js';
import { listS3Source, parseS3Url, s3Sender, sameS3 } from './s3Source.js';
import type { SourceFile } from './sourceFiles.js';

let dir: string;
/** One S3 with the lake's bucket and a user's, and another S3 with a user's bucket. */
let here: LocalS3;
let elsewhere: LocalS3;
const clients: S3Client[] = [];

const storeOn = (s3: LocalS3, bucket: string) => {
  const client = s3.client();
  clients.push(client);
  return new S3ObjectStore({ bucket, client });
};

/** The one file a listing holds. */
const onlyFile = (files: SourceFile[]): SourceFile => {
  expect(files).toHaveLength(1);
  return files[0] as SourceFile;
};

const keysUnder = async (store: S3ObjectStore, prefix: string) => {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys.sort();
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-s3-source-test-'));
  here = await LocalS3.start({ directory: join(dir, 'here'), buckets: ['lake', 'user-data'] });
  elsewhere = await LocalS3.start({ directory: join(dir, 'elsewhere'), buckets: ['far-data'] });
  const user = storeOn(here, 'user-data');
  await user.put('exports/2024/a.jsonl', '{"id":1}\n{"id":2}\n');
  await user.put('exports/b.json', '[{"id":3}]');
  await user.put('exports/', '');
  await user.put('exports/.hidden/c.json', '{}');
  await user.put('exports/notes.txt', 'not data');
  await user.put('exports-old/d.json', '{"id":4}');
  await storeOn(elsewhere, 'far-data').put('dump/e.json', '{"id":5}');
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await here?.stop();
  await elsewhere?.stop();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Function: parseS3Url', () => {
  it('reads the bucket and the prefix, without its trailing slash', () => {
    // Act & Assess
    expect(parseS3Url('s3://my-bucket/exports/2024/')).toEqual({
      bucket: 'my-bucket',
      prefix: 'exports/2024',
    });
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Url('./exports')).toBeUndefined();
  });

  it('refuses what cannot be a bucket name with Strata.BadInput', () => {
    // Act & Assess
    expect(() => parseS3Url('s3://My_Bucket/x')).toThrow(
      expect.objectContaining({ name: 'Strata.BadInput' })
    );
  });
});

describe('Function: sameS3', () => {
  it("is true only when the environment points the SDK at the lake's endpoint", () => {
    // Act & Assess
    vi.stubEnv('AWS_ENDPOINT_URL_S3', 'http://127.0.0.1:4568/');
    expect(sameS3('http://127.0.0.1:4568')).toBe(true);
    expect(sameS3(undefined)).toBe(false);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', undefined);
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    expect(sameS3(undefined)).toBe(true);
    expect(sameS3('http://127.0.0.1:4568')).toBe(false);
  });
});

describe('Function: listS3Source', () => {
  it('lists the objects under a folder in place, filtered as a folder on disk is', async () => {
    // Act
    const files = await listS3Source(
      storeOn(here, 'user-data'),
      { bucket: 'user-data', prefix: 'exports' },
      { exclude: ['*.txt'] }
    );

    // Assess: not the folder marker, the hidden folder, the text file nor exports-old/
    expect(files).toEqual([
      { path: 'exports/2024/a.jsonl', relative: '2024/a.jsonl', size: 18 },
      { path: 'exports/b.json', relative: 'b.json', size: 10 },
    ]);
  });

  it("takes a prefix that is one object's key as that object", async () => {
    // Act
    const files = await listS3Source(storeOn(here, 'user-data'), {
      bucket: 'user-data',
      prefix: 'exports/b.json',
    });

    // Assess
    expect(files.map((file) => file.relative)).toEqual(['b.json']);
  });
});

describe('Function: s3Sender', () => {
  it('copies server-side within one S3, leaving the source as it was', async () => {
    // Prepare
    const user = storeOn(here, 'user-data');
    const lake = storeOn(here, 'lake');
    const location = { bucket: 'user-data', prefix: 'exports' };
    const file = onlyFile(await listS3Source(user, location, { include: ['b.json'] }));

    // Act
    await s3Sender(user, location, lake, true)(file, 'raw/mine/all_historical_files/b.json');

    // Assess
    expect(new TextDecoder().decode(await lake.get('raw/mine/all_historical_files/b.json'))).toBe(
      '[{"id":3}]'
    );
    expect(await keysUnder(user, 'exports/b')).toEqual(['exports/b.json']);
  });

  it('streams each object into a lake on another S3', async () => {
    // Prepare
    const far = storeOn(elsewhere, 'far-data');
    const lake = storeOn(here, 'lake');
    const location = { bucket: 'far-data', prefix: 'dump' };
    const file = onlyFile(await listS3Source(far, location));

    // Act
    await s3Sender(far, location, lake, false)(file, 'raw/far/all_historical_files/e.json');

    // Assess
    expect(new TextDecoder().decode(await lake.get('raw/far/all_historical_files/e.json'))).toBe(
      '{"id":5}'
    );
    expect(await keysUnder(far, '')).toEqual(['dump/e.json']);
  });
});
