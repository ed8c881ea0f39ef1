import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '@strata/core/adapters';
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '@strata/local/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Statement } from '../scripts/check-aws/render.js';
import { policyAllows, s3AccessFindings } from '../scripts/check-aws/s3Access.js';
import { recordS3Requests } from '../scripts/check-aws/s3Requests.js';

const LAKE = 'arn:aws:s3:::Lake-dev';
let dir: string;
let s3: LocalS3;
let store: S3ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-s3-access-'));
  s3 = await LocalS3.start({ directory: dir, buckets: ['lake'] });
  store = new S3ObjectStore({
    bucket: 'lake',
    client: new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
    }),
  });
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Function: recordS3Requests', () => {
  it("records each request a function's calls make, as IAM actions on keys, with S3's status", async () => {
    // Prepare
    const recorder = recordS3Requests(s3.endpoint);
    await store.put('outside/a', 'not recorded');

    // Act
    await recorder.as('Fn', async () => {
      await store.put('a/one', '1');
      await store.get('a/missing');
      await store.copy('a/one', 'b/two');
      for await (const _ of store.list('a/')) {
        // every page
      }
      await store.delete(['a/one', 'b/two']);
    });
    recorder.stop();

    // Assess
    const [put, missing] = recorder.requests;
    expect(put).toEqual({ fn: 'Fn', action: 's3:PutObject', key: 'a/one', status: 200 });
    expect(missing).toEqual({ fn: 'Fn', action: 's3:GetObject', key: 'a/missing', status: 404 });
    const rest = recorder.requests.slice(2).map((r) => `${r.action} ${r.key}`);
    expect(rest).toEqual(
      expect.arrayContaining([
        's3:PutObject b/two',
        's3:GetObject a/one',
        's3:ListBucket a/',
        's3:DeleteObject a/one',
        's3:DeleteObject b/two',
      ])
    );
    expect(recorder.requests.some((r) => r.key.startsWith('outside/'))).toBe(false);
  });
});

describe('Function: s3AccessFindings', () => {
  const statements: Statement[] = [
    {
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [LAKE],
      Condition: { StringLike: { 's3:prefix': ['a/*'] } },
    },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [`${LAKE}/a/*`] },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${LAKE}/c/*`] },
  ];
  const policies = [{ owner: 'function:Fn', arn: 'x', statements }];

  it('allows by action, resource wildcard and s3:prefix condition', () => {
    // Assess
    expect(policyAllows(statements, 's3:GetObject', `${LAKE}/a/x/y`)).toBe(true);
    expect(policyAllows(statements, 's3:PutObject', `${LAKE}/b/x`)).toBe(false);
    expect(policyAllows(statements, 's3:ListBucket', LAKE, { 's3:prefix': 'a/x' })).toBe(true);
    expect(policyAllows(statements, 's3:ListBucket', LAKE, { 's3:prefix': 'b/' })).toBe(false);
    expect(policyAllows(statements, 's3:ListBucket', LAKE)).toBe(false);
  });

  it('finds refused requests and unlistable reads of missing keys, once per folder', () => {
    // Prepare
    const requests = [
      { fn: 'Fn', action: 's3:PutObject', key: 'b/1', status: 200 },
      { fn: 'Fn', action: 's3:PutObject', key: 'b/2', status: 200 },
      { fn: 'Fn', action: 's3:GetObject', key: 'a/missing', status: 404 },
      { fn: 'Fn', action: 's3:GetObject', key: 'c/missing', status: 404 },
      { fn: 'Fn', action: 's3:GetObject', key: 'c/there', status: 200 },
    ];

    // Act
    const findings = s3AccessFindings(requests, policies, LAKE);

    // Assess
    expect(findings).toEqual([
      'Fn: s3:PutObject on b/ is not allowed by its rendered policy (2 requests, e.g. b/1)',
      'Fn: reads missing keys under c/ as absent, but may not list them (s3:ListBucket with s3:prefix): AWS answers 403 AccessDenied, not 404 (1 request, e.g. c/missing)',
    ]);
  });
});
