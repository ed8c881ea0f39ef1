import { writeFile } from 'node:fs/promises';
import { quoteLiteral } from '../config/index.js';
import type { Workspace } from '../engine/index.js';
import type { ObjectStore } from '../ports/index.js';

const pad = (n: number) => String(n).padStart(6, '0');

/**
 * What feature-ingest keeps in the lake, per feature group: the hash of every record's features
 * as last sent (`record_id`, `features_hash`), and per run its plan, the changed records of each
 * range, every record's hash as of the run, and a marker per batch and per range sent.
 */
export const FeatureState = {
  sent: (group: string) => `_features/${group}/sent.parquet`,
  run: (group: string, runId: string) => `_features/${group}/runs/${runId}/`,
  plan: (group: string, runId: string) => `${FeatureState.run(group, runId)}plan.json`,
  hashes: (group: string, runId: string) => `${FeatureState.run(group, runId)}hashes.parquet`,
  range: (group: string, runId: string, range: number) =>
    `${FeatureState.run(group, runId)}range-${pad(range)}.parquet`,
  /** Written once the hashes are replaced: what a retry of the finish finds done. */
  finished: (group: string, runId: string) => `${FeatureState.run(group, runId)}finished.json`,
  rangeDone: (group: string, runId: string, range: number) =>
    `${FeatureState.run(group, runId)}range-${pad(range)}.done`,
  batchDone: (group: string, runId: string, batch: number) =>
    `${FeatureState.run(group, runId)}batch-${pad(batch)}.done`,
} as const;

/** What a run's plan holds: enough for each range and for the finish to work alone. */
export interface FeatureIngestPlan {
  featureGroup: string;
  runId: string;
  /** Every record's event time: the run's start. */
  eventTime: string;
  total: number;
  changed: number;
  unchanged: number;
  /** Records sent before and gone from the model since: deleted this run. */
  deleted: number;
  /** Records gone from the model but not deleted: more than the share a run may delete. */
  deletionsHeld: number;
  recordsPerBatch: number;
  recordsPerRange: number;
  ranges: number;
}

/** What a batch or a range sent: counts, and the ids of the records that failed. */
export interface SentCounts {
  sent: number;
  /** Absent in markers written before deletions were sent. */
  deleted?: number;
  retried: number;
  failedIds: string[];
}

/** Two counts summed. */
export const addCounts = (a: SentCounts, b: SentCounts): SentCounts => ({
  sent: a.sent + b.sent,
  deleted: (a.deleted ?? 0) + (b.deleted ?? 0),
  retried: a.retried + b.retried,
  failedIds: [...a.failedIds, ...b.failedIds],
});

/** Reads a JSON object the stage wrote, or undefined when there is none. */
export const readJson = async <T>(store: ObjectStore, key: string): Promise<T | undefined> => {
  const body = await store.get(key);
  return body ? (JSON.parse(Buffer.from(body).toString('utf8')) as T) : undefined;
};

/** Writes a JSON object. */
export const writeJson = (store: ObjectStore, key: string, value: unknown): Promise<void> =>
  store.put(key, JSON.stringify(value), 'application/json');

/**
 * The hashes last sent (`record_id`, `features_hash`) as a DuckDB relation: the lake's
 * sent.parquet, copied into the workspace, or an empty relation before the first run.
 */
export const sentHashes = async (store: ObjectStore, ws: Workspace, group: string) => {
  const body = await store.get(FeatureState.sent(group));
  if (!body)
    return '(select null::varchar as record_id, null::varchar as features_hash where false)';
  const local = ws.path('sent-before.parquet');
  await writeFile(local, body);
  return `read_parquet(${quoteLiteral(local)})`;
};
