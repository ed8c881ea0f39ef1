import { z } from 'zod';
import { parseOrThrow } from '../config/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import {
  type FlatColumn,
  type FlattenBatchResult,
  FlattenLayout,
  mergeStructures,
  withCurrentPaths,
} from '../flatten/index.js';
import { assertRunId } from '../lake/index.js';
import type { Catalog, CatalogTable, ObjectStore } from '../ports/index.js';
import { silverTableOf } from './silverTable.js';

export const reconcileInputSchema = z.object({
  runId: z.string().min(1),
  feed: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  /** The Distributed Map's `ResultWriterDetails`. */
  resultWriter: z.object({ Bucket: z.string().min(1), Key: z.string().min(1) }),
});

export type ReconcileInput = z.input<typeof reconcileInputSchema>;

export interface ReconcileResult {
  feed: string;
  runId: string;
  /** keyPass: succeeded batches that listed every record's keys before writing. */
  batches: { succeeded: number; failed: number; pending: number; keyPass: number };
  failedBatches: string[];
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
  reportKey: string;
}

/** The parts of a ResultWriter manifest and result record Reconcile reads. */
interface ResultManifest {
  ResultFiles: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string }[]>>;
}
interface ExecutionRecord {
  Input?: string;
  Output?: string;
}

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
 * sums the batches' counts (and checks records read = rows written + quarantined), lists the
 * failed batches for a redrive, merges the succeeded batches' schema fragments into the feed's
 * schema, makes the feed's silver table in the catalog match it, and writes a run report.
 *
 * @param raw - the run, its feed and the map's ResultWriterDetails
 * @param deps - the lake and the catalog
 */
export const runReconcile = async (
  raw: ReconcileInput,
  deps: { store: ObjectStore; catalog: Catalog }
): Promise<ReconcileResult> => {
  const input = parseOrThrow(reconcileInputSchema, raw, 'reconcile input');
  const runId = assertRunId(input.runId);
  const manifest = await readJson<ResultManifest>(deps.store, input.resultWriter.Key);
  const records = async (kind: 'SUCCEEDED' | 'FAILED' | 'PENDING') => {
    const all: ExecutionRecord[] = [];
    for (const file of manifest.ResultFiles[kind] ?? []) {
      all.push(...(await readJson<ExecutionRecord[]>(deps.store, file.Key)));
    }
    return all;
  };
  const succeeded = (await records('SUCCEEDED')).map(
    (record) => JSON.parse(record.Output ?? '{}') as FlattenBatchResult
  );
  const failed = await records('FAILED');
  const pending = await records('PENDING');
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

  /** Merges a dataset's fragments into its schema and makes its catalog table match. */
  const settle = async (
    dataset: string,
    batches: readonly { batchId: string; outputs: readonly string[] }[],
    kind: 'feed' | 'child'
  ) => {
    const schemaKey = FlattenLayout.schema(dataset);
    const stored = await deps.store.get(schemaKey);
    const existing = stored
      ? (JSON.parse(new TextDecoder().decode(stored)) as { columns: FlatColumn[] }).columns
      : [];
    const fragments: FlatColumn[][] = [withCurrentPaths(existing)];
    for (const batch of batches) {
      const fragment = await readJson<{ columns: FlatColumn[] }>(
        deps.store,
        FlattenLayout.schemaFragment(dataset, batch.batchId)
      );
      fragments.push(fragment.columns);
    }
    const columns = mergeColumns(fragments);
    await deps.store.put(
      schemaKey,
      JSON.stringify({ feed: dataset, updatedBy: runId, columns }, null, 2),
      'application/json'
    );
    const table = await deps.catalog.upsertTable(
      silverTableOf(
        dataset,
        columns,
        batches.flatMap((batch) => batch.outputs),
        kind
      )
    );
    return { schemaKey, table: { name: table.name, change: table.change } };
  };
  const { schemaKey, table } = await settle(input.feed, succeeded, 'feed');
  const childBatches = new Map<string, { batchId: string; outputs: string[]; rows: number }[]>();
  for (const batch of succeeded) {
    for (const child of batch.children ?? []) {
      const seen = childBatches.get(child.dataset) ?? [];
      seen.push({ batchId: batch.batchId, outputs: child.outputs, rows: child.rowsWritten });
      childBatches.set(child.dataset, seen);
    }
  }
  const children: ReconcileResult['children'] = [];
  for (const [dataset, batches] of childBatches) {
    const settled = await settle(dataset, batches, 'child');
    children.push({
      dataset,
      rowsWritten: batches.reduce((total, batch) => total + batch.rows, 0),
      ...settled,
    });
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
    failedBatches: [...failed, ...pending].map(batchOf),
    ...totals,
    schemaKey,
    table,
    children,
    reportKey: `_backfill/${input.feed}/${runId}/report.json`,
  };
  await deps.store.put(result.reportKey, JSON.stringify(result, null, 2), 'application/json');
  return result;
};
