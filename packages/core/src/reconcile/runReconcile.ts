import { z } from 'zod';
import { parseOrThrow } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { BadInputError, QualityFailedError, TransientError } from '../errors/index.js';
import {
  type FlatColumn,
  type FlattenBatchResult,
  FlattenLayout,
  mergeStructures,
  readBatchManifest,
  SILVER_PARTITION_KEYS,
  typingReport,
  withAdopted,
  withCurrentPaths,
} from '../flatten/index.js';
import { assertRunId, eachLimited, updateObject } from '../lake/index.js';
import { planKey, type Throughput, throughputKey } from '../plan-backlog/index.js';
import type { Catalog, CatalogTable, Ledger, ObjectStore } from '../ports/index.js';
import { conformFiles, widenedColumns } from './conformFiles.js';
import { measureThroughput, type TimedRecord } from './measureThroughput.js';
import { type ObjectOutcomes, objectOutcomes } from './objectOutcomes.js';
import { silverTableOf } from './silverTable.js';

const resultWriterDetails = z.object({ Bucket: z.string().min(1), Key: z.string().min(1) });

export const reconcileInputSchema = z.object({
  runId: z.string().min(1),
  feed: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  /** The Distributed Map's `ResultWriterDetails`. */
  resultWriter: resultWriterDetails,
  /**
   * The `ResultWriterDetails` of the Map Run that reran this run's failed batches (the backfill's
   * RetryFailedBatches): its results replace theirs.
   */
  retried: resultWriterDetails.optional(),
});

export type ReconcileInput = z.input<typeof reconcileInputSchema>;

/**
 * Reconcile's state output: counts and keys only, so it stays the same size whatever the run's
 * size (Step Functions fails a state over 256 KiB, uncatchably). The lists are in the report.
 */
export interface ReconcileResult {
  feed: string;
  runId: string;
  /** keyPass: succeeded batches that listed every record's keys before writing. */
  batches: { succeeded: number; failed: number; pending: number; keyPass: number };
  /**
   * How the planned objects ended, by the ledger; the report also lists them as
   * `failedObjects`, `retriedObjects` and `strandedObjects`.
   */
  objects: ObjectOutcomes['counts'];
  /** Dead batches that had committed, finished by this run's batches and counted here. */
  adoptedBatches: number;
  /**
   * The feed's flatten rate this run measured, which the next plan sizes batches by; none when
   * no batch ran long enough to tell.
   */
  throughput?: Throughput;
  recordsRead: number;
  rowsWritten: number;
  recordsQuarantined: number;
  schemaKey: string;
  /** The feed's silver table in the catalog, after this run's schema. */
  table: { name: string; change: CatalogTable['change'] };
  /** The child tables exploded arrays went to: rows this run, schema and catalog table. */
  children: {
    dataset: string;
    rowsWritten: number;
    schemaKey: string;
    table: { name: string; change: CatalogTable['change'] };
  }[];
  /** The {@link ReconcileReport} in the lake. */
  reportKey: string;
  /**
   * How typed the feed's data landed this run, a `TypingReport` in the lake
   * (`_backfill/<feed>/<run>/typing.json`, docs/flatten.md): leaves in typed columns, child
   * tables, JSON text and `_variant`, and the widest record shapes.
   */
  typingKey: string;
  /**
   * With failed or pending batches, a JSON Lines file of their map items (one per line, as the
   * Distributed Map gave them), which a second Map Run reads to run them again.
   */
  failedItemsKey?: string;
}

/** The run report Reconcile writes to the lake: its result, the batches to redrive and the objects to look at. */
export interface ReconcileReport extends ReconcileResult {
  /** Every batch that failed or never started (FAILED or PENDING in the Map Run's results). */
  failedBatches: string[];
  /** Planned objects the ledger holds FAILED, with the last error. */
  failedObjects: ObjectOutcomes['failed'];
  /** Planned objects an earlier batch had taken (attempts > 1), however they ended now. */
  retriedObjects: ObjectOutcomes['retried'];
  /** Planned objects still PROCESSING: their batch neither finished nor failed. */
  strandedObjects: ObjectOutcomes['stranded'];
}

/** Manifests and fragments are read this many at a time: one per batch, thousands per run. */
const READ_CONCURRENCY = 16;

/** The parts of a ResultWriter manifest and result record Reconcile reads. */
interface ResultManifest {
  ResultFiles: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string }[]>>;
}
type ExecutionRecord = TimedRecord;

/** Catalog upserts to try while other runs keep changing the registry. */
const CATALOG_ATTEMPTS = 10;

const readJson = async <T>(store: ObjectStore, key: string): Promise<T> => {
  const body = await store.get(key);
  if (!body) throw new BadInputError(`reconcile: ${key} is missing`);
  return JSON.parse(new TextDecoder().decode(body)) as T;
};

/**
 * Merges column lists by name, the name readers see in the Parquet files: integers and doubles
 * widen to DOUBLE, any other disagreement to JSON (the variant column type), so every batch's
 * values still fit.
 *
 * @param lists - column lists, oldest first
 */
export const mergeColumns = (lists: readonly (readonly FlatColumn[])[]): FlatColumn[] => {
  const merged = new Map<string, FlatColumn>();
  for (const columns of lists) {
    for (const column of columns) {
      const seen = merged.get(column.name);
      merged.set(
        column.name,
        seen
          ? // The structures' rule for two leaf types, so batches and Reconcile widen alike.
            { ...seen, type: mergeStructures(seen.type, column.type) as FlatColumn['type'] }
          : column
      );
    }
  }
  return [...merged.values()];
};

/**
 * Closes a backfill run: reads the Distributed Map's ResultWriter manifest and result files,
 * sums the batches' counts (and checks records read = rows written + quarantined), reads the
 * manifests of the parts they wrote, merges the succeeded batches' schema fragments into the
 * feed's schema, rewrites the columns it widened in the files of the batches that wrote them
 * narrower, makes the feed's silver table in the catalog match it, and writes a run report
 * that lists the failed batches. The result holds counts and keys: the report's, and that of
 * the failed batches' map items for a Map Run that runs them again.
 *
 * @param raw - the run, its feed, the map's ResultWriterDetails and those of a retry's Map Run
 * @param deps - the lake, the catalog, the ledger and an engine for the files it rewrites
 */
export const runReconcile = async (
  raw: ReconcileInput,
  deps: { store: ObjectStore; catalog: Catalog; ledger: Ledger; engine: DuckDbEngine }
): Promise<ReconcileResult> => {
  const input = parseOrThrow(reconcileInputSchema, raw, 'reconcile input');
  const runId = assertRunId(input.runId);
  const records = async (key: string, kind: 'SUCCEEDED' | 'FAILED' | 'PENDING') => {
    const manifest = await readJson<ResultManifest>(deps.store, key);
    const all: ExecutionRecord[] = [];
    for (const file of manifest.ResultFiles[kind] ?? []) {
      all.push(...(await readJson<ExecutionRecord[]>(deps.store, file.Key)));
    }
    return all;
  };
  // A retry's Map Run reran exactly the first one's failed and pending batches.
  const last = (input.retried ?? input.resultWriter).Key;
  const finishedRecords = [
    ...(await records(input.resultWriter.Key, 'SUCCEEDED')),
    ...(input.retried ? await records(input.retried.Key, 'SUCCEEDED') : []),
  ];
  const finished = finishedRecords.map(
    (record) => JSON.parse(record.Output ?? '{}') as FlattenBatchResult
  );
  const succeeded = await withAdopted(deps.store, input.feed, finished);
  const failed = await records(last, 'FAILED');
  const pending = await records(last, 'PENDING');
  const batchOf = (record: ExecutionRecord) =>
    String((JSON.parse(record.Input ?? '{}') as { batchId?: string }).batchId ?? 'unknown');

  const sum = (field: 'recordsRead' | 'rowsWritten' | 'recordsQuarantined') =>
    succeeded.reduce((total, batch) => total + batch[field], 0);
  const totals = {
    recordsRead: sum('recordsRead'),
    rowsWritten: sum('rowsWritten'),
    recordsQuarantined: sum('recordsQuarantined'),
  };
  if (totals.recordsRead !== totals.rowsWritten + totals.recordsQuarantined) {
    throw new QualityFailedError(
      `reconcile ${input.feed}: read ${totals.recordsRead} records but wrote ${totals.rowsWritten} and quarantined ${totals.recordsQuarantined}`
    );
  }

  /**
   * Merges a dataset's fragments into its schema and makes its catalog table match. Another
   * run may reconcile the same dataset at once: the registry is written only over the version
   * the merge read, and the catalog, which takes the types a definition names, is upserted
   * again until the registry did not change in between, so neither keeps a stale schema.
   */
  const settle = async (
    dataset: string,
    batches: readonly { batchId: string }[],
    folders: ReadonlySet<string>,
    kind: 'feed' | 'child'
  ) => {
    let keys = partitionKeys;
    const schemaKey = FlattenLayout.schema(dataset);
    const fragments: FlatColumn[][] = batches.map(() => []);
    await eachLimited(batches, READ_CONCURRENCY, async (batch, i) => {
      const fragment = await readJson<{ columns: FlatColumn[] }>(
        deps.store,
        FlattenLayout.schemaFragment(dataset, batch.batchId)
      );
      fragments[i] = fragment.columns;
    });
    const registered = (stored: Uint8Array | undefined) => {
      const registry = stored
        ? (JSON.parse(new TextDecoder().decode(stored)) as {
            columns: FlatColumn[];
            partitionKeys?: string[];
          })
        : undefined;
      return {
        columns: withCurrentPaths(registry?.columns ?? []),
        // A registry from before partitions were configurable names none: its folders had all four.
        keys: registry ? (registry.partitionKeys ?? [...SILVER_PARTITION_KEYS]) : undefined,
      };
    };
    let columns: FlatColumn[] = [];
    let etag = await updateObject(
      deps.store,
      schemaKey,
      (stored) => {
        const registry = registered(stored);
        keys ??= registry.keys ?? [...SILVER_PARTITION_KEYS];
        if (registry.keys && registry.keys.join('/') !== keys.join('/')) {
          throw new QualityFailedError(
            `reconcile ${dataset}: its silver folders are partitioned by [${registry.keys.join(', ')}], this run wrote [${keys.join(', ')}]: a feed's partition cannot change under its data (flatten into a new feed, or empty silver/${dataset}/ and its registry first)`
          );
        }
        // Batch order, oldest first, so the merge does not depend on which read finished first.
        columns = mergeColumns([registry.columns, ...fragments]);
        return JSON.stringify(
          { feed: dataset, updatedBy: runId, partitionKeys: keys, columns },
          null,
          2
        );
      },
      { contentType: 'application/json' }
    );
    // Before the catalog shows a widened type, every file of this run holds it. Batches plan
    // registered columns in their registered types, so only this run's files can differ (or
    // those of another run of the feed planned against the same registry: docs/flatten.md).
    const conform = () =>
      conformFiles(
        deps,
        batches.flatMap((batch, i) =>
          (outputsOf.get(dataset)?.get(batch.batchId) ?? []).map((key) => ({
            key,
            casts: widenedColumns(fragments[i] ?? [], columns),
          }))
        )
      );
    for (let attempt = 1; ; attempt++) {
      await conform();
      const table = await deps.catalog.upsertTable(
        silverTableOf(dataset, columns, folders, keys ?? [], kind)
      );
      const now = await deps.store.getTagged(schemaKey);
      if (!now || now.etag === etag) {
        return { schemaKey, table: { name: table.name, change: table.change } };
      }
      if (attempt === CATALOG_ATTEMPTS) {
        throw new TransientError(
          `reconcile ${dataset}: ${schemaKey} kept changing while the catalog was updated`
        );
      }
      ({ etag } = now);
      columns = registered(now.body).columns;
    }
  };
  // The partition folders the batches wrote to, per dataset: few, however many parts there are.
  const folders = new Map<string, Set<string>>();
  // The parts each batch wrote, per dataset, for the columns the merge widens.
  const outputsOf = new Map<string, Map<string, readonly string[]>>();
  const runKeys = new Set<string>();
  const addOutputs = (dataset: string, batchId: string, outputs: readonly string[]) => {
    const seen = folders.get(dataset) ?? new Set<string>();
    for (const output of outputs) seen.add(output.slice(0, output.lastIndexOf('/') + 1));
    folders.set(dataset, seen);
    const batches = outputsOf.get(dataset) ?? new Map<string, readonly string[]>();
    batches.set(batchId, outputs);
    outputsOf.set(dataset, batches);
  };
  await eachLimited(succeeded, READ_CONCURRENCY, async (batch) => {
    const manifest = await readBatchManifest(deps.store, batch.manifestKey);
    runKeys.add(JSON.stringify(manifest.partitionKeys ?? SILVER_PARTITION_KEYS));
    addOutputs(input.feed, batch.batchId, manifest.outputs);
    for (const child of manifest.children) addOutputs(child.dataset, batch.batchId, child.outputs);
  });
  if (runKeys.size > 1) {
    throw new QualityFailedError(
      `reconcile ${input.feed}: the run's batches wrote different partitions (${[...runKeys].join(' and ')}): the feed's partition changed during the run`
    );
  }
  const [written] = runKeys;
  const partitionKeys = written ? (JSON.parse(written) as string[]) : undefined;
  const foldersOf = (dataset: string) => folders.get(dataset) ?? new Set<string>();
  const { schemaKey, table } = await settle(input.feed, succeeded, foldersOf(input.feed), 'feed');
  const childBatches = new Map<string, { batchId: string; rows: number }[]>();
  for (const batch of succeeded) {
    for (const child of batch.children ?? []) {
      const seen = childBatches.get(child.dataset) ?? [];
      seen.push({ batchId: batch.batchId, rows: child.rowsWritten });
      childBatches.set(child.dataset, seen);
    }
  }
  const children: ReconcileResult['children'] = [];
  for (const [dataset, batches] of childBatches) {
    const settled = await settle(dataset, batches, foldersOf(dataset), 'child');
    children.push({
      dataset,
      rowsWritten: batches.reduce((total, batch) => total + batch.rows, 0),
      ...settled,
    });
  }

  const outcomes = await objectOutcomes(deps, planKey(input.feed, runId));
  const throughput = measureThroughput({ feed: input.feed, runId }, finishedRecords);
  if (throughput) {
    await deps.store.put(
      throughputKey(input.feed),
      JSON.stringify(throughput, null, 2),
      'application/json'
    );
  }
  const result: ReconcileResult = {
    feed: input.feed,
    runId,
    batches: {
      succeeded: succeeded.length,
      failed: failed.length,
      pending: pending.length,
      keyPass: succeeded.filter((batch) => batch.keyPass).length,
    },
    objects: outcomes.counts,
    adoptedBatches: succeeded.length - finished.length,
    ...(throughput ? { throughput } : {}),
    ...totals,
    schemaKey,
    table,
    children,
    reportKey: `_backfill/${input.feed}/${runId}/report.json`,
    typingKey: `_backfill/${input.feed}/${runId}/typing.json`,
  };
  await deps.store.put(
    result.typingKey,
    JSON.stringify(
      typingReport(
        { feed: input.feed, runId },
        succeeded.map((batch) => batch.typing)
      ),
      null,
      2
    ),
    'application/json'
  );
  const unfinished = [...failed, ...pending];
  if (unfinished.length > 0) {
    result.failedItemsKey = `_backfill/${input.feed}/${runId}/failed-items.jsonl`;
    await deps.store.put(
      result.failedItemsKey,
      unfinished.map((record) => `${record.Input ?? '{}'}\n`).join(''),
      'application/x-ndjson'
    );
  }
  const report: ReconcileReport = {
    ...result,
    failedBatches: unfinished.map(batchOf),
    failedObjects: outcomes.failed,
    retriedObjects: outcomes.retried,
    strandedObjects: outcomes.stranded,
  };
  await deps.store.put(result.reportKey, JSON.stringify(report, null, 2), 'application/json');
  return result;
};
