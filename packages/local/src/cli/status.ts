import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { quoteLiteral } from '@strata/core/config';
import type { DuckDbEngine, JsonRow } from '@strata/core/engine';
import { lakeDirectory } from '../runtime/EmbeddedRuntime.js';
import { S3RVER_OBJECT_SUFFIX } from '../s3/LocalS3.js';
import { textTable } from './summaryTable.js';

/** The latest backfill runs shown per feed. */
const LAST_RUNS = 3;

const cells = (rows: readonly JsonRow[], columns: readonly string[]) =>
  rows.map((row) => columns.map((column) => String(row[column] ?? '')));

/**
 * The backfill runs of a local lake, newest first within each feed, from the reports Reconcile
 * wrote (`_backfill/<feed>/<run>/report.json`): feed, run, records read, rows written,
 * quarantined and failed batches. Read from the lake's files, so no local S3 need run.
 *
 * @param engine - an engine to read with
 * @param dir - the runtime's `--dir`
 * @param options - at most `perFeed` runs per feed, or only the run `runId`
 */
export const backfillRuns = async (
  engine: DuckDbEngine,
  dir: string,
  options: { perFeed?: number; runId?: string } = {}
): Promise<JsonRow[]> => {
  const bucket = lakeDirectory(dir);
  if (!existsSync(join(bucket, '_backfill'))) return [];
  const reports = join(bucket, '_backfill', '*', '*', `report.json${S3RVER_OBJECT_SUFFIX}`);
  const filters = [
    options.perFeed === undefined ? 'true' : `n <= ${Math.floor(options.perFeed)}`,
    options.runId === undefined ? 'true' : `runId = ${quoteLiteral(options.runId)}`,
  ];
  return engine.all(`
    select feed, runId as run, recordsRead as "records read", rowsWritten as "rows written",
      recordsQuarantined as quarantined, failed as "failed batches"
    from (
      select *, len(failedBatches) as failed,
        row_number() over (partition by feed order by runId desc) as n
      from read_json(${quoteLiteral(reports)}, columns = {feed: 'VARCHAR', runId: 'VARCHAR',
        recordsRead: 'BIGINT', rowsWritten: 'BIGINT', recordsQuarantined: 'BIGINT',
        failedBatches: 'JSON[]'})
    ) where ${filters.join(' and ')} order by feed, run desc`);
};

/**
 * Where each feed of a local lake stands, from an engine {@link openLake} opened: its raw
 * objects by state (waiting in raw/, processing, succeeded, failed, as the ledger and the lake
 * say) with the records its runs quarantined, and its last backfill runs with their counts, from
 * their reports.
 *
 * @param engine - an engine with the lake open
 * @param dir - the runtime's `--dir`
 */
export const lakeStatus = async (engine: DuckDbEngine, dir: string): Promise<string> => {
  const bucket = lakeDirectory(dir);
  const raw = join(bucket, 'raw');
  // Objects still in raw/ that the ledger has not seen are waiting for a backfill.
  const waiting = existsSync(raw)
    ? `select split_part(key, '/', 2) as feed, count(*) as n from (
         select replace(replace(file, ${quoteLiteral(`${bucket}/`)}, ''), ${quoteLiteral(S3RVER_OBJECT_SUFFIX)}, '') as key
         from glob(${quoteLiteral(join(raw, '**', `*${S3RVER_OBJECT_SUFFIX}`))})
       ) where key not in (select object_key from strata.ledger) group by all`
    : 'select null::varchar as feed, 0 as n where false';
  const objects = await engine.all(`
    with ledger as (
      select split_part(object_key, '/', 2) as feed, status from strata.ledger
    ), waiting as (${waiting})
    select feed,
      coalesce(any_value(w.n), 0)::bigint as waiting,
      count(*) filter (status = 'PROCESSING')::bigint as processing,
      count(*) filter (status = 'SUCCEEDED')::bigint as succeeded,
      count(*) filter (status = 'FAILED')::bigint as failed
    from ledger full join waiting as w using (feed)
    group by feed order by feed`);
  // Every run, newest first within each feed: the last few are shown, and all of them give the
  // feed's quarantined records (records, not objects, as Reconcile counted them).
  const runs: JsonRow[] = [];
  const quarantined = new Map<string, bigint>();
  const shown = new Map<string, number>();
  for (const run of await backfillRuns(engine, dir)) {
    const feed = String(run.feed);
    quarantined.set(feed, (quarantined.get(feed) ?? 0n) + BigInt(String(run.quarantined ?? 0)));
    shown.set(feed, (shown.get(feed) ?? 0) + 1);
    if ((shown.get(feed) ?? 0) <= LAST_RUNS) runs.push(run);
  }
  for (const row of objects)
    row['records quarantined'] = String(quarantined.get(String(row.feed)) ?? 0n);
  const objectColumns = [
    'feed',
    'waiting',
    'processing',
    'succeeded',
    'failed',
    'records quarantined',
  ];
  const runColumns = [
    'feed',
    'run',
    'records read',
    'rows written',
    'quarantined',
    'failed batches',
  ];
  return [
    'Raw objects by state',
    textTable(objectColumns, cells(objects, objectColumns), [1, 2, 3, 4, 5]),
    '',
    `Last backfill runs (up to ${LAST_RUNS} per feed)`,
    textTable(runColumns, cells(runs, runColumns), [2, 3, 4, 5]),
  ].join('\n');
};
