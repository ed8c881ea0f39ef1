import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// s3rver is the local S3 emulator; the contract runs the real AWS adapter against it.
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '../../../local/src/s3/LocalS3.js';
import { ErrorName } from '../errors/index.js';
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

  describe('Method: download', () => {
    it('fails on a full disk with Strata.Terminal naming the disk', async () => {
      // Prepare: /dev/full answers every write with ENOSPC, as a full disk does
      await store.put('full-disk/object.bin', new Uint8Array(64 * 1024));

      // Act
      const attempt = store.download('full-disk/object.bin', '/dev/full');

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: ErrorName.Terminal,
        message: expect.stringMatching(/^disk full: no space left on the disk holding \/dev \(/),
      });
    });
  });

  describe('Method: copy', () => {
    it('keeps the content type and user metadata on s3rver', async () => {
      // Prepare
      const s3 = client as S3Client;
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'typed/source.jsonl',
          Body: '{"a":1}\n',
          ContentType: 'application/x-ndjson',
          Metadata: { origin: 'landing' },
        })
      );

      // Act
      await store.copy('typed/source.jsonl', 'typed/copy.jsonl');

      // Assess
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: 'typed/copy.jsonl' })
      );
      expect(head).toMatchObject({
        ContentType: 'application/x-ndjson',
        ContentLength: 8,
        Metadata: { origin: 'landing' },
      });
    });
  });

  // s3rver answers UploadPartCopy with NotImplemented, so the multipart branch runs against a
  // mocked client: what it must send is fixed by the S3 API, and the mock checks exactly that.
  describe('Method: copy (above the copy threshold, mocked S3 client)', () => {
    const MiB = 1024 * 1024;
    const mocked = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const mock = mockClient(mocked);
    const parted = new S3ObjectStore({
      bucket: 'lake',
      client: mocked,
      copyThreshold: 10 * MiB,
      copyPartSize: 5 * MiB,
    });
    const head = {
      ContentLength: 12 * MiB + 1,
      ContentType: 'application/gzip',
      ETag: '"abc"',
      Metadata: { origin: 'landing' },
    };

    beforeEach(() => {
      mock.reset();
      mock.on(HeadObjectCommand).resolves(head);
      mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u-1' });
      mock.on(UploadPartCopyCommand).callsFake(async (input: { PartNumber: number }) => ({
        CopyPartResult: { ETag: `"part-${input.PartNumber}"` },
      }));
      mock.on(CompleteMultipartUploadCommand).resolves({});
      mock.on(AbortMultipartUploadCommand).resolves({});
    });

    it('copies byte ranges of the same source version into a multipart upload with its metadata', async () => {
      // Act
      await parted.copy('raw/f/big+1 é.json.gz', 'raw-processed/f/big+1 é.json.gz');

      // Assess
      expect(mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
      expect(mock.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toEqual({
        Bucket: 'lake',
        Key: 'raw-processed/f/big+1 é.json.gz',
        ContentType: 'application/gzip',
        Metadata: { origin: 'landing' },
      });
      const parts = mock
        .commandCalls(UploadPartCopyCommand)
        .map((call) => call.args[0].input)
        .sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      const part = { Bucket: 'lake', Key: 'raw-processed/f/big+1 é.json.gz', UploadId: 'u-1' };
      const source = {
        CopySource: 'lake/raw/f/big%2B1%20%C3%A9.json.gz',
        CopySourceIfMatch: '"abc"',
      };
      expect(parts).toEqual([
        { ...part, ...source, PartNumber: 1, CopySourceRange: `bytes=0-${5 * MiB - 1}` },
        { ...part, ...source, PartNumber: 2, CopySourceRange: `bytes=${5 * MiB}-${10 * MiB - 1}` },
        { ...part, ...source, PartNumber: 3, CopySourceRange: `bytes=${10 * MiB}-${12 * MiB}` },
      ]);
      expect(mock.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input).toEqual({
        ...part,
        MultipartUpload: {
          Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"part-${n}"` })),
        },
      });
      expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
    });

    it('raises the part size so that no copy needs more than 10,000 parts', async () => {
      // Prepare: 10,000 parts of 5 MiB hold less than this
      const size = 10_000 * (5 * MiB + 1);
      mock.on(HeadObjectCommand).resolves({ ...head, ContentLength: size });

      // Act
      await parted.copy('raw/f/huge.json', 'raw-processed/f/huge.json');

      // Assess
      const ranges = mock
        .commandCalls(UploadPartCopyCommand)
        .map((call) => call.args[0].input.CopySourceRange);
      expect(ranges).toHaveLength(10_000);
      expect(ranges).toContain(`bytes=0-${5 * MiB}`);
      expect(ranges).toContain(`bytes=${9_999 * (5 * MiB + 1)}-${size - 1}`);
    });

    it('aborts the upload and throws Strata.Transient when a part copy keeps failing', async () => {
      // Prepare
      mock.on(UploadPartCopyCommand, { PartNumber: 2 }).rejects(
        new S3ServiceException({
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
          message: 'We encountered an internal error.',
        })
      );

      // Act
      const act = parted.copy('raw/f/big.json', 'raw-processed/f/big.json');

      // Assess
      await expect(act).rejects.toMatchObject({ name: ErrorName.Transient });
      expect(mock.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toEqual({
        Bucket: 'lake',
        Key: 'raw-processed/f/big.json',
        UploadId: 'u-1',
      });
      expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    });

    it('copies an object at the threshold with one CopyObject', async () => {
      // Prepare
      mock.on(HeadObjectCommand).resolves({ ...head, ContentLength: 10 * MiB });
      mock.on(CopyObjectCommand).resolves({});

      // Act
      await parted.copy('raw/f/a=1.json', 'raw-processed/f/a=1.json');

      // Assess
      expect(mock.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
        Bucket: 'lake',
        Key: 'raw-processed/f/a=1.json',
        CopySource: 'lake/raw/f/a%3D1.json',
      });
      expect(mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    });

    it('copies an object of a known small size without a head', async () => {
      // Prepare
      mock.on(CopyObjectCommand).resolves({});

      // Act
      await parted.copy('raw/f/small.json', 'raw-processed/f/small.json', 3 * MiB);

      // Assess
      expect(mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
      expect(mock.commandCalls(CopyObjectCommand)).toHaveLength(1);
    });

    it('heads an object of a known large size for the copy in parts', async () => {
      // Act
      await parted.copy('raw/f/big.json', 'raw-processed/f/big.json', 12 * MiB + 1);

      // Assess
      expect(mock.commandCalls(HeadObjectCommand)).toHaveLength(1);
      expect(mock.commandCalls(UploadPartCopyCommand)).toHaveLength(3);
    });
  });
});
