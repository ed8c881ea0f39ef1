import { z } from 'zod';
import { quoteLiteral } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { assertRunId, Lake } from '../lake/index.js';
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
  records: number;
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

/**
 * Publishes gold `ml_features` to the feature store, one record per customer.
 *
 * @param input - the run
 * @param deps - lake, engine, the feature sink and the group's name
 */
export const runFeatureIngest = async (
  input: FeatureIngestInput,
  deps: FeatureIngestDeps
): Promise<FeatureIngestResult> => {
  assertRunId(input.runId);
  const eventTime = new Date(input.runStartedAt).toISOString();
  const batchSize = deps.batchSize ?? 500;
  return Workspace.use('feature-ingest', async (ws) => {
    const local = ws.path('ml_features.parquet');
    await deps.store.download(Lake.goldModel(FEATURE_MODEL), local);
    const result = await deps.engine.connection.stream(
      `select *, ${quoteLiteral(eventTime)} as event_time from read_parquet(${quoteLiteral(local)}) order by customer_id`
    );
    let records = 0;
    let batch: FeatureRecord[] = [];
    for await (const rows of result.yieldRowObjectJson()) {
      for (const row of rows) {
        batch.push(row as FeatureRecord);
        if (batch.length === batchSize) {
          records += (await deps.sink.putRecords(deps.featureGroup, batch)).written;
          batch = [];
        }
      }
    }
    if (batch.length > 0) records += (await deps.sink.putRecords(deps.featureGroup, batch)).written;
    return { featureGroup: deps.featureGroup, records };
  });
};
