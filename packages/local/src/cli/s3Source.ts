import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '@strata/core/adapters';
import { BadInputError } from '@strata/core/errors';
import { type SendFile, type SourceFile, type SourceFilter, selectFiles } from './sourceFiles.js';

/** An `s3://bucket/prefix` source: its bucket, and the prefix its objects are under. */
export interface S3Location {
  bucket: string;
  /** A folder (`2024/`), one object's key, or empty for the whole bucket. */
  prefix: string;
}

/**
 * An `s3://bucket/prefix` argument as a bucket and a prefix, or undefined when it names no S3
 * source (a path on disk).
 *
 * @param from - the `--from` value
 */
export const parseS3Url = (from: string): S3Location | undefined => {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(from);
  if (!match) return undefined;
  const [, bucket = '', prefix = ''] = match;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new BadInputError(`--from: "${bucket}" in ${from} is not an S3 bucket name`);
  }
  return { bucket, prefix: prefix.replace(/\/+$/, '') };
};

/** The endpoint S3 requests go to: AWS's own unless the environment points the SDK elsewhere. */
const configuredEndpoint = () =>
  process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? undefined;

/**
 * The client a source bucket is read with: the SDK's default credential chain (environment,
 * shared config and SSO profiles, instance and container roles) and region, following a bucket
 * to its own region. An endpoint set in the environment (a local S3 server) is honoured, as the
 * SDK does, and is then reached path-style.
 */
export const sourceClient = (): S3Client =>
  new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    followRegionRedirects: true,
    forcePathStyle: Boolean(configuredEndpoint()),
  });

/**
 * Whether a source client reaches the same S3 as the lake at `lakeEndpoint` (where a copy can be
 * made server-side). AWS's own endpoint when none is configured.
 *
 * @param lakeEndpoint - the lake's S3 endpoint, or undefined for AWS's own
 */
export const sameS3 = (lakeEndpoint: string | undefined): boolean =>
  configuredEndpoint()?.replace(/\/+$/, '') === lakeEndpoint?.replace(/\/+$/, '');

/**
 * The objects of an S3 source, listed in place (ListObjectsV2, page by page), as source files
 * relative to the prefix, filtered as a folder's files are. A prefix that is one object's key
 * is that object; folder markers (keys ending in `/`) are left out.
 *
 * @param source - the source bucket, through its reader
 * @param location - the bucket and prefix
 * @param filter - the `--include` / `--exclude` globs
 */
export const listS3Source = async (
  source: S3ObjectStore,
  location: S3Location,
  filter: SourceFilter = {}
): Promise<SourceFile[]> => {
  const { prefix } = location;
  const candidates: SourceFile[] = [];
  for await (const object of source.list(prefix)) {
    if (object.key.endsWith('/')) continue;
    const relative =
      object.key === prefix
        ? (prefix.split('/').pop() ?? prefix)
        : prefix === ''
          ? object.key
          : object.key.startsWith(`${prefix}/`)
            ? object.key.slice(prefix.length + 1)
            : undefined;
    // `s3://b/2024` is the folder 2024/ or the object 2024, not 2024-old/.
    if (relative !== undefined) candidates.push({ path: object.key, relative, size: object.size });
  }
  return selectFiles(candidates, filter);
};

/**
 * How an S3 source's objects reach the lake's backlog prefix. Within one S3 the lake copies
 * each server-side (CopyObject, in parts above 5 GiB): no byte passes through this machine.
 * Into a lake on another S3 (the embedded runtime's local S3) each object is streamed through a
 * temporary file. Either way the source is only read: nothing in it is written or deleted.
 *
 * @param source - the source bucket's reader
 * @param location - the source bucket
 * @param lake - the lake
 * @param serverSide - whether the lake is on the same S3 as the source ({@link sameS3})
 */
export const s3Sender = (
  source: S3ObjectStore,
  location: S3Location,
  lake: S3ObjectStore,
  serverSide: boolean
): SendFile =>
  serverSide
    ? (file, key) => lake.copyFrom(location.bucket, file.path, key, file.size)
    : async (file, key) => {
        const dir = await mkdtemp(join(tmpdir(), 'strata-s3-source-'));
        try {
          const local = join(dir, 'object');
          await source.download(file.path, local);
          await lake.upload(key, local);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      };

/**
 * The reader of a source bucket, with the default credential chain.
 *
 * @param location - the source bucket
 * @param client - the client to read with ({@link sourceClient} by default)
 */
export const s3SourceStore = (location: S3Location, client: S3Client = sourceClient()) =>
  new S3ObjectStore({ bucket: location.bucket, client });
