import {
  type FlattenBatchResult,
  FlattenLayout,
  readBatchManifest,
  type TypingReport,
  withAdopted,
} from '@strata/core/flatten';
import type { PlanBacklogResult } from '@strata/core/plan-backlog';
import type { ObjectStore } from '@strata/core/ports';
import type { ReconcileResult } from '@strata/core/reconcile';
import { readResultSet } from '../asl/distributedMap/resultWriter.js';
import type { ResultWriterOutput } from '../asl/distributedMap/shapes.js';
import { withLakeReader } from './lakeReader.js';
import type { SummaryRow } from './summarizeRun.js';

/** The state data a successful `backfill` execution ends with (statemachines/backfill.asl.json). */
export interface BackfillOutput {
  plan: PlanBacklogResult;
  mapRun: ResultWriterOutput;
  reconcile: { report: ReconcileResult };
}

/** One feed's backfill run, as Reconcile reported it and as the lake shows it. */
export interface BackfillSummary {
  feed: string;
  runId: string;
  plan: PlanBacklogResult;
  report: ReconcileResult;
  /** Rows in the silver parts this run's batches wrote, counted by reading them back. */
  silverRows: number;
  /** This run's quarantined records by reason, counted from the quarantine sidecars. */
  quarantined: { reason: string; records: number }[];
  /** How typed the run's data landed (Reconcile's `typing.json`); none from an older report. */
  typing?: TypingReport;
  /** Read = written + quarantined, and the lake holds exactly those rows and records. */
  reconciled: boolean;
  /** The summary's silver and quarantine lines for the run table. */
  rows: SummaryRow[];
}

const text = async (store: ObjectStore, key: string) =>
  new TextDecoder().decode((await store.get(key)) ?? new Uint8Array());

/** A reason short enough for a table cell: DuckDB's messages can run over several lines. */
const shorten = (reason: string) => {
  const line = reason.split('\n')[0]?.trim() ?? '';
  return line.length > 72 ? `${line.slice(0, 71)}…` : line;
};

/**
 * Quarantined records of the given batches by reason: each line of a batch's `records.jsonl`
 * is one rejected record, and each `<file>.error.json` one object that could not be read at all
 * (FlattenLayout), which flatten-batch counts as one quarantined record.
 */
const quarantineReasons = async (store: ObjectStore, feed: string, batchIds: string[]) => {
  const byReason = new Map<string, number>();
  const add = (reason: string) => byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  for (const batchId of batchIds) {
    const records = FlattenLayout.quarantineRecords(feed, batchId);
    for await (const object of store.list(records.slice(0, records.lastIndexOf('/') + 1))) {
      if (object.key === records) {
        for (const line of (await text(store, object.key)).split('\n')) {
          if (line.trim()) add(shorten(String((JSON.parse(line) as { error: unknown }).error)));
        }
      } else if (object.key.endsWith('.error.json')) {
        const sidecar = JSON.parse(await text(store, object.key)) as { error: unknown };
        add(`unreadable file: ${shorten(String(sidecar.error))}`);
      }
    }
  }
  return [...byReason]
    .map(([reason, records]) => ({ reason, records }))
    .sort((a, b) => b.records - a.records || a.reason.localeCompare(b.reason));
};

/** What the lake shows of one run: a {@link BackfillSummary} but the plan's counts. */
export type BackfillRunRead = Omit<BackfillSummary, 'plan'> & {
  /** The silver Parquet parts (child tables' too) the run's batches wrote. */
  parts: string[];
};

/**
 * Reads one feed's backfill run from the lake: the batches its Distributed Map finished (the
 * ResultWriter's SUCCEEDED records), the rows in the silver parts they wrote, read back from the
 * Parquet, and their quarantined records by reason, read from the quarantine sidecars. Earlier
 * runs' output under the same feed is not counted.
 *
 * @param store - the lake (also the ResultWriter's bucket)
 * @param run - the feed, the run id, Reconcile's report and the Map Run's ResultWriterDetails
 */
export const readBackfillRun = async (
  store: ObjectStore,
  run: {
    feed: string;
    runId: string;
    report: ReconcileResult;
    resultWriter: ResultWriterOutput['ResultWriterDetails'];
  }
): Promise<BackfillRunRead> => {
  const { feed, report } = run;
  const { Bucket, Key } = run.resultWriter;
  const results = await readResultSet(store, Bucket, Key);
  const batches = await withAdopted(
    store,
    feed,
    results.succeeded.map((record) => JSON.parse(record.Output ?? '{}') as FlattenBatchResult)
  );
  const manifests = await Promise.all(
    batches.map((batch) => readBatchManifest(store, batch.manifestKey))
  );
  const { silverRows, childRows } = await withLakeReader(store, async ({ count }) => {
    const rows = await count(manifests.flatMap((manifest) => manifest.outputs));
    // Exploded arrays' child tables, read back the same way, one after another on the reader.
    const children: { dataset: string; reported: number; rows: number }[] = [];
    for (const child of report.children ?? []) {
      const outputs = manifests.flatMap((manifest) =>
        manifest.children
          .filter((written) => written.dataset === child.dataset)
          .flatMap((written) => written.outputs)
      );
      children.push({
        dataset: child.dataset,
        reported: child.rowsWritten,
        rows: await count(outputs),
      });
    }
    return { silverRows: rows, childRows: children };
  });
  const quarantined = await quarantineReasons(
    store,
    feed,
    batches.map((batch) => batch.batchId)
  );
  const quarantinedRecords = quarantined.reduce((sum, entry) => sum + entry.records, 0);
  const typing = report.typingKey ? await store.get(report.typingKey) : undefined;
  return {
    feed,
    runId: run.runId,
    report,
    parts: manifests.flatMap((manifest) => [
      ...manifest.outputs,
      ...manifest.children.flatMap((child) => child.outputs),
    ]),
    silverRows,
    quarantined,
    ...(typing ? { typing: JSON.parse(new TextDecoder().decode(typing)) as TypingReport } : {}),
    reconciled:
      report.recordsRead === report.rowsWritten + report.recordsQuarantined &&
      silverRows === report.rowsWritten &&
      childRows.every((child) => child.rows === child.reported) &&
      quarantinedRecords === report.recordsQuarantined,
    rows: [
      {
        layer: 'silver',
        dataset: feed,
        rows: silverRows,
        location: `silver/${feed}/`,
        note: 'backfill, this run',
      },
      ...childRows.map((child) => ({
        layer: 'silver' as const,
        dataset: child.dataset,
        rows: child.rows,
        location: `silver/${child.dataset}/`,
        note: 'backfill, this run: one row per array element',
      })),
      ...quarantined.map(({ reason, records }) => ({
        layer: 'quarantine' as const,
        dataset: feed,
        rows: records,
        location: `quarantine/${feed}/`,
        note: reason,
      })),
    ],
  };
};

/**
 * Summarises one feed's backfill execution from its output and the lake ({@link readBackfillRun}).
 *
 * @param store - the lake (also the ResultWriter's bucket)
 * @param run - the feed, the execution's name (its run id) and its output
 */
export const summarizeBackfill = async (
  store: ObjectStore,
  run: { feed: string; runId: string; output: BackfillOutput }
): Promise<BackfillSummary> => {
  const read = await readBackfillRun(store, {
    feed: run.feed,
    runId: run.runId,
    report: run.output.reconcile.report,
    resultWriter: run.output.mapRun.ResultWriterDetails,
  });
  return { ...read, plan: run.output.plan };
};
