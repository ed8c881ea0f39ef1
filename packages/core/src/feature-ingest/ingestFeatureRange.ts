import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { Workspace } from '../engine/index.js';
import { ErrorName, TerminalError, TransientError } from '../errors/index.js';
import {
  type FeatureContract,
  featureRecordSchema,
  recordProblems,
} from '../feature-contract/index.js';
import { assertRunId } from '../lake/index.js';
import type {
  DeadLetterQueue,
  FailedRecord,
  FeatureDeletion,
  FeatureRecord,
  FeatureSink,
  ObjectStore,
} from '../ports/index.js';
import {
  addCounts,
  type FeatureIngestPlan,
  FeatureState,
  readJson,
  type SentCounts,
  writeJson,
} from './state.js';

export interface IngestFeatureRangeDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  sink: FeatureSink;
  deadLetters: DeadLetterQueue;
  featureGroup: string;
  contract: FeatureContract;
  /**
   * When to stop starting batches (epoch ms): the invocation's end, less a margin. A range not
   * done by then fails `Strata.Transient`, and its retry resumes after the last marked batch.
   */
  deadline?: number;
}

/** What one range sent. */
export interface FeatureRangeResult {
  range: number;
  sent: number;
  deleted: number;
  retried: number;
  failed: number;
}

/**
 * Keeps a feature's number as a number (Integral and Fractional features are numbers), except
 * an integer a double cannot hold exactly, which keeps its digits as text.
 */
const keepDigits = (_key: string, value: unknown, context?: { source?: string }) =>
  typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
    ? (context?.source ?? value)
    : value;

/**
 * Sends one range of a planned run to the feature store, batch by batch: PutRecord for the
 * changed records, DeleteRecord for those the plan found gone from the model. Each record is
 * checked against the feature contract first: one that breaks it is not sent. Records that
 * break it or that the sink gives up on go to the dead-letter queue with their error, and then
 * the batch's marker is written (so a retry sends no batch twice); the range's marker, written
 * last, sums its batches for the finish step.
 *
 * @param input - the run and the range's number
 * @param deps - lake, engine, sink, dead-letter queue, the group and its contract
 */
export const ingestFeatureRange = async (
  input: { runId: string; range: number },
  deps: IngestFeatureRangeDeps
): Promise<FeatureRangeResult> => {
  const runId = assertRunId(input.runId);
  const { store, engine, featureGroup: group, contract } = deps;
  const rangeDone = FeatureState.rangeDone(group, runId, input.range);
  const done = await readJson<SentCounts>(store, rangeDone);
  if (done) return resultOf(input.range, done);
  const plan = await readJson<FeatureIngestPlan>(store, FeatureState.plan(group, runId));
  if (!plan || input.range >= plan.ranges) {
    throw new TerminalError(
      `feature-ingest: run ${runId} planned no range ${input.range} for ${group} (${plan ? `${plan.ranges} ranges` : 'no plan'})`
    );
  }
  const schema = featureRecordSchema(contract);
  return Workspace.use('feature-range', async (ws) => {
    const local = ws.path('range.parquet');
    await store.download(FeatureState.range(group, runId, input.range), local);
    const first = input.range * plan.recordsPerRange;
    const records = await engine.scalarNumber(
      `select count(*) from read_parquet(${quoteLiteral(local)})`
    );
    let total: SentCounts = { sent: 0, retried: 0, failedIds: [] };
    for (let offset = 0; offset < records; offset += plan.recordsPerBatch) {
      const batch = (first + offset) / plan.recordsPerBatch;
      const marker = FeatureState.batchDone(group, runId, batch);
      const before = await readJson<SentCounts>(store, marker);
      if (before) {
        total = addCounts(total, before);
        continue;
      }
      if (deps.deadline !== undefined && Date.now() > deps.deadline) {
        throw new TransientError(
          `feature-ingest: range ${input.range} stopped before the invocation's end at batch ${batch}; the retry resumes there`
        );
      }
      const rows = await engine.all(
        `select to_json(r)::varchar as record from (select * exclude (__hash, __n, __deleted), __deleted, ${quoteLiteral(plan.eventTime)} as ${quoteIdentifier(contract.eventTime)} from read_parquet(${quoteLiteral(local)}) where __n >= ${first + offset} and __n < ${first + offset + plan.recordsPerBatch} order by __n) as r`
      );
      const counts = await sendBatch(
        rows.map((row) => JSON.parse(String(row.record), keepDigits) as FeatureRecord),
        { ...deps, runId, schema, eventTime: plan.eventTime }
      );
      await writeJson(store, marker, counts);
      total = addCounts(total, counts);
    }
    await writeJson(store, rangeDone, total);
    return resultOf(input.range, total);
  });
};

const resultOf = (range: number, counts: SentCounts): FeatureRangeResult => ({
  range,
  sent: counts.sent,
  deleted: counts.deleted ?? 0,
  retried: counts.retried,
  failed: counts.failedIds.length,
});

/** Checks, sends (or deletes) and dead-letters one batch; returns what it counts for the marker. */
const sendBatch = async (
  rows: FeatureRecord[],
  deps: IngestFeatureRangeDeps & {
    runId: string;
    schema: ReturnType<typeof featureRecordSchema>;
    eventTime: string;
  }
): Promise<SentCounts> => {
  const { contract, featureGroup: group } = deps;
  const valid: FeatureRecord[] = [];
  const gone: FeatureDeletion[] = [];
  const failed: FailedRecord[] = [];
  for (const { __deleted, ...record } of rows) {
    if (__deleted) {
      gone.push({ recordId: String(record[contract.recordId]), eventTime: deps.eventTime });
      continue;
    }
    const checked = deps.schema.safeParse(record);
    if (checked.success) valid.push(record);
    else {
      failed.push({
        record,
        error: {
          name: ErrorName.BadInput,
          message: `record breaks the feature contract: ${recordProblems(checked.error)}`,
        },
      });
    }
  }
  const put = await deps.sink.putRecords(group, valid);
  failed.push(...put.failed);
  const removed =
    gone.length > 0
      ? await deps.sink.deleteRecords(group, gone)
      : { deleted: 0, retried: 0, failed: [] };
  // A deletion that failed is dead-lettered as its identifier and time; its error names DeleteRecord.
  for (const { deletion, error } of removed.failed) {
    failed.push({
      record: { [contract.recordId]: deletion.recordId, [contract.eventTime]: deletion.eventTime },
      error,
    });
  }
  if (failed.length > 0) {
    await deps.deadLetters.send(
      failed.map(({ record, error }) => ({
        stage: 'feature-ingest',
        target: group,
        runId: deps.runId,
        key: String(record[contract.recordId]),
        error,
        payload: record,
      }))
    );
  }
  return {
    sent: put.written,
    deleted: removed.deleted,
    retried: put.retried + removed.retried,
    failedIds: failed.map(({ record }) => String(record[contract.recordId])),
  };
};
