import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { assertRunId, Lake, writeParquetFile } from '../lake/index.js';
import type { FeatureRecord, FeatureSink, ObjectStore } from '../ports/index.js';

export const featureIngestInputSchema = z.object({
  runId: z.string().min(1),
  runStartedAt: z.iso.datetime({ offset: true }),
});

export interface FeatureIngestInput {
  runId: string;
  /** The execution's start time, used as every record's event time so a retry rewrites, not adds. */
  runStartedAt: string;
}

export interface FeatureIngestResult {
  featureGroup: string;
  /** Records sent this run: new ones, and those whose features changed since they were sent. */
  records: number;
  /** Records whose features are as last sent: not sent again. */
  unchanged: number;
}

export interface FeatureIngestDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  sink: FeatureSink;
  featureGroup: string;
  /** Records per `putRecords` call. */
  batchSize?: number;
}

/** The gold model feature-ingest publishes, one record per customer. */
export const FEATURE_MODEL = 'ml_features';
/** The model's record identifier. */
const RECORD_ID = 'customer_id';

/**
 * Where the lake keeps, per feature group, the hash of every record's features as last sent
 * (`record_id`, `features_hash`), and the batches of a run already sent.
 */
export const FeatureState = {
  sent: (group: string) => `_features/${group}/sent.parquet`,
  batchDone: (group: string, runId: string, batch: number) =>
    `_features/${group}/runs/${runId}/batch-${String(batch).padStart(6, '0')}.done`,
} as const;

/**
 * Keeps a feature's number as a number (Integral and Fractional features are numbers), except
 * an integer a double cannot hold exactly, which keeps its digits as text.
 */
const keepDigits = (_key: string, value: unknown, context?: { source?: string }) =>
  typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
    ? (context?.source ?? value)
    : value;

/**
 * Publishes gold `ml_features` to the feature store: only the records that are new or whose
 * features changed since they were last sent, each with the run's event time.
 *
 * Each record's features are hashed and compared with the hashes the lake keeps from the runs
 * before (`_features/<group>/sent.parquet`). The changed records go out in batches in record-id
 * order; each batch sent is marked in the lake, so a retry of the run sends none twice (the
 * offline store would keep a second copy), and the hashes are replaced once all are sent.
 *
 * @param input - the run
 * @param deps - lake, engine, the feature sink and the group's name
 */
export const runFeatureIngest = async (
  input: FeatureIngestInput,
  deps: FeatureIngestDeps
): Promise<FeatureIngestResult> => {
  const runId = assertRunId(input.runId);
  const eventTime = new Date(input.runStartedAt).toISOString();
  const batchSize = deps.batchSize ?? 500;
  const group = deps.featureGroup;
  const { engine, store } = deps;
  return Workspace.use('feature-ingest', async (ws) => {
    const local = ws.path('ml_features.parquet');
    await store.download(Lake.goldModel(FEATURE_MODEL), local);
    const id = quoteIdentifier(RECORD_ID);
    await engine.run(
      `create or replace temp table features as select *, md5(to_json(f)::varchar) as __hash from read_parquet(${quoteLiteral(local)}) as f`
    );
    const sentLocal = ws.path('sent.parquet');
    const sentBefore = await store.get(FeatureState.sent(group));
    if (sentBefore) await writeFile(sentLocal, sentBefore);
    const sent = sentBefore
      ? `read_parquet(${quoteLiteral(sentLocal)})`
      : '(select null::varchar as record_id, null::varchar as features_hash where false)';
    await engine.run(`
      create or replace temp table changed as
      select f.*, row_number() over (order by f.${id}) - 1 as __n from features as f
      left join ${sent} as s on s.record_id = f.${id}::varchar
      where s.features_hash is distinct from f.__hash`);
    const total = await engine.scalarNumber('select count(*) from features');
    const changed = await engine.scalarNumber('select count(*) from changed');
    let records = 0;
    for (let batch = 0; batch * batchSize < changed; batch++) {
      const marker = FeatureState.batchDone(group, runId, batch);
      if (await store.get(marker)) continue;
      const rows = await engine.all(
        `select to_json(r)::varchar as record from (select * exclude (__hash, __n), ${quoteLiteral(eventTime)} as event_time from changed where __n >= ${batch * batchSize} and __n < ${(batch + 1) * batchSize} order by __n) as r`
      );
      const { written } = await deps.sink.putRecords(
        group,
        rows.map((row) => JSON.parse(String(row.record), keepDigits) as FeatureRecord)
      );
      records += written;
      await store.put(marker, JSON.stringify({ written }), 'application/json');
    }
    // Every changed record is sent: the hashes as of this run replace the old ones.
    const { local: next } = await writeParquetFile(
      { engine, ws },
      `select ${id}::varchar as record_id, __hash as features_hash from features order by ${id}`,
      FeatureState.sent(group)
    );
    await store.upload(FeatureState.sent(group), next, 'application/vnd.apache.parquet');
    return { featureGroup: group, records, unchanged: total - changed };
  });
};
