import { type CostEstimate, estimatePlanCost } from '@strata/core/cost';
import { BadInputError } from '@strata/core/errors';
import type { TypingReport } from '@strata/core/flatten';
import { planKey } from '@strata/core/plan-backlog';
import type { ObjectStore } from '@strata/core/ports';
import type { ReconcileReport } from '@strata/core/reconcile';
import { readResultSet } from '../asl/distributedMap/resultWriter.js';
import type { ExecutionRecord } from '../asl/distributedMap/shapes.js';
import { LOCAL_BUCKET } from '../runtime/EmbeddedRuntime.js';
import { type BackfillRunRead, readBackfillRun } from '../runtime/summarizeBackfill.js';

/** Where every Map Run's ResultWriter output goes (statemachines/backfill.asl.json). */
const MAP_RUNS_PREFIX = '_backfill/map-runs/';

/** One batch of the run, as its Map Run recorded it. */
export interface ReportBatch {
  batchId: string;
  status: string;
  start?: Date;
  stop?: Date;
  /** Raw bytes planned for it. */
  bytes: number;
  recordsRead?: number;
  rowsWritten?: number;
  recordsQuarantined?: number;
  /** Its error, for a batch that failed. */
  error?: string;
}

/** A stage of the run and when it ran, as far as the lake's objects date it. */
export interface ReportStage {
  name: 'PlanBacklog' | 'FlattenBacklog' | 'Reconcile';
  start?: Date;
  end?: Date;
}

/** A silver dataset's columns: how many landed typed, and how many as JSON (variant) text. */
export interface DatasetTyping {
  dataset: string;
  columns: number;
  json: number;
}

/** What a run report shows, read from the lake. */
export interface RunReport {
  feed: string;
  runId: string;
  /** Reconcile's report of the run. */
  report: ReconcileReport;
  plan: { objects: number; bytes: number; batches: number };
  /** The lake read back (silver rows, quarantine reasons), when the Map Run's results are found. */
  read?: BackfillRunRead;
  batches: ReportBatch[];
  stages: ReportStage[];
  /** Bytes of the silver Parquet parts the run wrote. */
  bytesWritten: number;
  typing: DatasetTyping[];
  /** Where the run's leaves landed and its widest record shapes (Reconcile's `typing.json`). */
  leaves?: TypingReport;
  cost: CostEstimate;
  /** Things the report could not read, said on the page instead of failing it. */
  gaps: string[];
}

const decode = (body: Uint8Array | undefined) =>
  body === undefined ? undefined : new TextDecoder().decode(body);

const readJson = async <T>(store: ObjectStore, key: string): Promise<T | undefined> => {
  const text = decode(await store.get(key));
  return text === undefined ? undefined : (JSON.parse(text) as T);
};

/** The CLI names a run `backfill-<feed>-<ISO time with - for : and .>`: when it started. */
const startOfRunId = (runId: string): Date | undefined => {
  const match = /(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/.exec(runId);
  return match ? new Date(`${match[1]}:${match[2]}:${match[3]}.${match[4]}Z`) : undefined;
};

const date = (text: string | undefined) => (text ? new Date(text) : undefined);

const batchIdOf = (record: ExecutionRecord) =>
  (JSON.parse(record.Input || '{}') as { batchId?: string }).batchId ?? '';

/** The later of a date and a time in ms (0 for none), or the date if neither is later. */
const latest = (when: Date | undefined, ms: number) =>
  when && when.getTime() >= ms ? when : ms > 0 ? new Date(ms) : when;

/**
 * Stages one after another: S3 dates an object to the second, rounding down, so a stage can
 * seem to end before the one before it did; each starts no earlier than the one before ends,
 * and ends no earlier than it starts.
 */
const inOrder = (stages: ReportStage[]): ReportStage[] => {
  let floor = 0;
  return stages.map((stage) => {
    const start = stage.start && new Date(Math.max(stage.start.getTime(), floor));
    const end = stage.end && new Date(Math.max(stage.end.getTime(), start?.getTime() ?? 0));
    floor = end?.getTime() ?? start?.getTime() ?? floor;
    return { ...stage, start, end };
  });
};

/**
 * The Map Runs whose children ran this run's batches (a run has a second one when it reran its
 * failed batches), oldest first, with when each manifest was written. Their IDs are the Map
 * Run's own, not the run's, so each manifest's results are looked into.
 */
const mapRunsOf = async (store: ObjectStore, feed: string, runId: string) => {
  const manifests: { key: string; lastModified?: Date }[] = [];
  for await (const object of store.list(MAP_RUNS_PREFIX)) {
    if (object.key.endsWith('/manifest.json')) manifests.push(object);
  }
  const ours = `${runId}-${feed}-`;
  const found: {
    key: string;
    lastModified?: Date;
    records: (ExecutionRecord & { group: string })[];
  }[] = [];
  for (const manifest of manifests) {
    const set = await readResultSet(store, LOCAL_BUCKET, manifest.key);
    const records = [
      ...set.succeeded.map((record) => ({ ...record, group: 'SUCCEEDED' })),
      ...set.failed.map((record) => ({ ...record, group: 'FAILED' })),
      ...set.pending.map((record) => ({ ...record, group: 'PENDING' })),
    ];
    if (records.some((record) => batchIdOf(record).startsWith(ours))) {
      found.push({ ...manifest, records });
    }
  }
  return found.sort((a, b) => (a.lastModified?.getTime() ?? 0) - (b.lastModified?.getTime() ?? 0));
};

/** The planned batches of the run (plan.jsonl), with their bytes. */
const readPlan = async (store: ObjectStore, feed: string, runId: string) => {
  const text = decode(await store.get(planKey(feed, runId))) ?? '';
  const batches = text
    .split('\n')
    .filter((line) => line.trim())
    .map(
      (line) => JSON.parse(line) as { batchId: string; bytes: number; objects: { key: string }[] }
    );
  return {
    batches,
    objects: batches.reduce((total, batch) => total + batch.objects.length, 0),
    bytes: batches.reduce((total, batch) => total + batch.bytes, 0),
  };
};

/** When each of the run's own objects was written, by key. */
const writtenAt = async (store: ObjectStore, feed: string, runId: string) => {
  const dates = new Map<string, Date | undefined>();
  for await (const object of store.list(`_backfill/${feed}/${runId}/`)) {
    dates.set(object.key, object.lastModified);
  }
  return dates;
};

/** Columns of the feed's silver tables by kind, from the schemas Reconcile settled. */
const readTyping = async (store: ObjectStore, report: ReconcileReport) => {
  const keyed = [
    { dataset: report.feed, key: report.schemaKey },
    ...report.children.map((child) => ({ dataset: child.dataset, key: child.schemaKey })),
  ];
  const typing: DatasetTyping[] = [];
  for (const { dataset, key } of keyed) {
    const schema = await readJson<{ columns: { type: string }[] }>(store, key);
    if (!schema) continue;
    typing.push({
      dataset,
      columns: schema.columns.length,
      json: schema.columns.filter((column) => column.type === 'JSON').length,
    });
  }
  return typing;
};

/** Sizes of the given silver parts, from one listing of each dataset's prefix. */
const partBytes = async (store: ObjectStore, parts: readonly string[]) => {
  const wanted = new Set(parts);
  const prefixes = new Set(parts.map((part) => `${part.split('/').slice(0, 2).join('/')}/`));
  let bytes = 0;
  for (const prefix of prefixes) {
    for await (const object of store.list(prefix)) {
      if (wanted.has(object.key)) bytes += object.size;
    }
  }
  return bytes;
};

/**
 * Everything `strata report` shows of one backfill run, read from the lake: Reconcile's report,
 * the plan, the Map Run's batches with their times, the silver rows and quarantine reasons read
 * back ({@link readBackfillRun}), the columns' types, and the run's estimated cost on AWS.
 * The stages are dated by the objects they wrote (S3 dates to the second) and the batches by
 * their child executions' start and stop times.
 *
 * @param store - the lake
 * @param run - the feed and the run id
 */
export const collectRunReport = async (
  store: ObjectStore,
  run: { feed: string; runId: string }
): Promise<RunReport> => {
  const { feed, runId } = run;
  const reportKey = `_backfill/${feed}/${runId}/report.json`;
  const report = await readJson<ReconcileReport>(store, reportKey);
  if (!report) {
    throw new BadInputError(`no report of run ${runId} at ${reportKey}: has Reconcile run?`);
  }
  const gaps: string[] = [];
  const plan = await readPlan(store, feed, runId);
  const planned = new Map(plan.batches.map((batch) => [batch.batchId, batch.bytes]));
  const mapRuns = await mapRunsOf(store, feed, runId);
  // A batch rerun by the second Map Run is shown as it ended there.
  const byBatch = new Map<string, ReportBatch>();
  for (const mapRun of mapRuns) {
    for (const record of mapRun.records) {
      const batchId = batchIdOf(record);
      const output = JSON.parse(record.Output ?? '{}') as Partial<ReportBatch>;
      byBatch.set(batchId, {
        batchId,
        status: record.group,
        start: date(record.StartDate),
        stop: date(record.StopDate),
        bytes: planned.get(batchId) ?? 0,
        recordsRead: output.recordsRead,
        rowsWritten: output.rowsWritten,
        recordsQuarantined: output.recordsQuarantined,
        ...(record.Error ? { error: `${record.Error}: ${record.Cause ?? ''}` } : {}),
      });
    }
  }
  const batches = [...byBatch.values()].sort((a, b) => a.batchId.localeCompare(b.batchId));
  const first = mapRuns[0];
  let read: BackfillRunRead | undefined;
  if (first) {
    read = await readBackfillRun(store, {
      feed,
      runId,
      report,
      resultWriter: { Bucket: LOCAL_BUCKET, Key: first.key },
    });
  } else if (plan.batches.length > 0) {
    gaps.push(
      'the Map Run that ran the batches is not in the lake: batch times and the lake read-back are missing'
    );
  }
  const dates = await writtenAt(store, feed, runId);
  const plannedAt = dates.get(planKey(feed, runId));
  const mapEnd = mapRuns.at(-1)?.lastModified;
  const starts = batches.flatMap((batch) => (batch.start ? [batch.start.getTime()] : []));
  const runStart =
    startOfRunId(runId) ?? (starts.length ? new Date(Math.min(...starts)) : plannedAt);
  const lastStop = Math.max(0, ...batches.map((batch) => batch.stop?.getTime() ?? 0));
  const stages = inOrder([
    { name: 'PlanBacklog', start: runStart, end: plannedAt },
    { name: 'FlattenBacklog', start: plannedAt, end: latest(mapEnd, lastStop) },
    { name: 'Reconcile', start: latest(mapEnd, lastStop), end: dates.get(reportKey) },
  ]);
  return {
    feed,
    runId,
    report,
    plan: { objects: plan.objects, bytes: plan.bytes, batches: plan.batches.length },
    read,
    batches,
    stages,
    bytesWritten: read ? await partBytes(store, read.parts) : 0,
    typing: await readTyping(store, report),
    leaves: report.typingKey ? await readJson<TypingReport>(store, report.typingKey) : undefined,
    cost: estimatePlanCost({
      totalBytes: plan.bytes,
      objects: plan.objects,
      batches: plan.batches.length,
    }),
    gaps,
  };
};
