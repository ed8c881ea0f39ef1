import type { ObjectStore } from '@strata/core/ports';
import { named } from '../LocalIntegrations.js';
import type { ExecutionRecord, ResultFile, ResultManifest, ResultWriterOutput } from './shapes.js';

/** The writer could not store the results: AWS fails the Map with this error. */
export const resultWriterFailed = (message: string): Error =>
  named('States.ResultWriterFailed', message);

/**
 * The folder of one Map Run's results: `<Prefix>/<map run id>/` (input-output-resultwriter.html:
 * Prefix `csvProcessJobs` gives `csvProcessJobs/ad9b5f27-.../manifest.json`). A prefix that
 * already ends in `/` is used as is.
 *
 * @param prefix - ResultWriter.Parameters.Prefix
 * @param mapRunId - the last segment of the Map Run ARN
 */
export const mapRunFolder = (prefix: string, mapRunId: string): string =>
  `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}${mapRunId}/`;

/** Result files group executions by status; FAILED also holds timed-out and aborted ones. */
const fileStatus = (record: ExecutionRecord): keyof ResultManifest['ResultFiles'] =>
  record.Status === 'SUCCEEDED' ? 'SUCCEEDED' : record.Status === 'PENDING' ? 'PENDING' : 'FAILED';

export interface ResultSet {
  store: ObjectStore;
  bucket: string;
  folder: string;
  mapRunArn: string;
  /** This attempt's executions, in item order. */
  records: readonly ExecutionRecord[];
  /** `n` of the `<STATUS>_<n>.json` files this attempt writes. */
  fileIndex: number;
  /** Result files of earlier attempts of the same Map Run (a redrive keeps them, see below). */
  earlierSucceeded?: readonly ResultFile[];
}

/**
 * Writes one attempt's `SUCCEEDED_n.json`, `FAILED_n.json` and `PENDING_n.json` (JSON arrays of
 * execution records; a file only when it has records) and then `manifest.json`, and returns the
 * Map state's documented output `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`.
 *
 * After a redrive "the manifest.json file contains references to all the successful child
 * workflow executions across all the attempts of a Map Run [...] [and] to the failed and pending
 * executions for a specific redrive" (input-output-resultwriter.html), hence `earlierSucceeded`.
 * AWS splits files at 5 GB; locally one file per status is always enough.
 *
 * @param set - where to write, and what
 */
export const writeResultSet = async (set: ResultSet): Promise<ResultWriterOutput> => {
  const files: ResultManifest['ResultFiles'] = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [...(set.earlierSucceeded ?? [])],
  };
  try {
    for (const status of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
      const records = set.records.filter((record) => fileStatus(record) === status);
      if (records.length === 0) continue;
      const key = `${set.folder}${status}_${set.fileIndex}.json`;
      const body = JSON.stringify(records);
      await set.store.put(key, body, 'application/json');
      files[status].push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifest: ResultManifest = {
      DestinationBucket: set.bucket,
      MapRunArn: set.mapRunArn,
      ResultFiles: files,
    };
    const key = `${set.folder}manifest.json`;
    await set.store.put(key, JSON.stringify(manifest), 'application/json');
    return { MapRunArn: set.mapRunArn, ResultWriterDetails: { Bucket: set.bucket, Key: key } };
  } catch (error) {
    throw resultWriterFailed(`cannot write results to s3://${set.bucket}/${set.folder}: ${error}`);
  }
};

const readJson = async <T>(store: ObjectStore, bucket: string, key: string): Promise<T> => {
  const body = await store.get(key);
  if (!body) throw named('States.Runtime', `s3://${bucket}/${key} does not exist`);
  return JSON.parse(Buffer.from(body).toString('utf8')) as T;
};

/**
 * Reads a Map Run's manifest and every result file it lists.
 *
 * @param store - the object store of the manifest's bucket
 * @param bucket - the bucket (for messages)
 * @param manifestKey - ResultWriterDetails.Key
 */
export const readResultSet = async (store: ObjectStore, bucket: string, manifestKey: string) => {
  const manifest = await readJson<ResultManifest>(store, bucket, manifestKey);
  const read = async (files: readonly ResultFile[]) =>
    (
      await Promise.all(files.map((file) => readJson<ExecutionRecord[]>(store, bucket, file.Key)))
    ).flat();
  return {
    manifest,
    succeeded: await read(manifest.ResultFiles.SUCCEEDED),
    failed: await read(manifest.ResultFiles.FAILED),
    pending: await read(manifest.ResultFiles.PENDING),
  };
};
