import { quoteLiteral } from '@strata/core/config';
import type { DuckDbEngine } from '@strata/core/engine';
import { Lake, readSilverManifest } from '@strata/core/lake';
import type { ObjectStore } from '@strata/core/ports';
import { count } from '../cli/format.js';
import { localOfflineRoot } from '../features/LocalFeatureStore.js';
import { withLakeReader } from './lakeReader.js';

/** One line of the run summary, counted from the objects in the lake. */
export interface SummaryRow {
  layer: 'bronze' | 'silver' | 'gold' | 'features' | 'quarantine';
  dataset: string;
  rows: number;
  /** The lake prefix holding the dataset. */
  location: string;
  /** What the count covers where layer and dataset do not say: a quarantine reason, say. */
  note?: string;
}

export interface SummarizeOptions {
  runId: string;
  /** The run's event time: features are counted for this run only. */
  runStartedAt: string;
  featureGroup: string;
}

const grouped = async (store: ObjectStore, prefix: string, match: (key: string) => boolean) => {
  const byDataset = new Map<string, string[]>();
  for await (const object of store.list(prefix)) {
    if (!match(object.key)) continue;
    const dataset = object.key.split('/')[1] ?? '';
    byDataset.set(dataset, [...(byDataset.get(dataset) ?? []), object.key]);
  }
  return [...byDataset].sort(([a], [b]) => a.localeCompare(b));
};

const datasetOf = (key: string) => key.split('/')[1] ?? '';

/**
 * What a silver table says beyond its row count: a history table's current versions and what
 * this run opened and closed, a table's rows deleted at the source (the run's extract time is
 * the `valid_from` of the versions it opened and the `_deleted_at` of the rows it deleted).
 */
const silverNote = async (
  engine: DuckDbEngine,
  table: string,
  runTime: string
): Promise<string | undefined> => {
  const columns = new Set(
    (await engine.all(`describe select * from ${table}`)).map((row) => String(row.column_name))
  );
  if (!columns.has('_deleted_at')) return undefined;
  if (columns.has('is_current')) {
    const [row] = await engine.all(
      `select count(*) filter (where is_current) as current,
         count(*) filter (where valid_from = ${runTime}) as opened,
         count(*) filter (where _deleted_at = ${runTime}) as closed
       from ${table}`
    );
    return `SCD2: ${count(row?.current)} current; this run ${count(row?.opened)} new version(s), ${count(row?.closed)} closed by a delete`;
  }
  const [row] = await engine.all(
    `select count(*) filter (where _deleted_at is not null) as deleted,
       count(*) filter (where _deleted_at = ${runTime}) as now
     from ${table}`
  );
  return Number(row?.deleted) > 0
    ? `${count(row?.deleted)} soft-deleted, ${count(row?.now)} this run`
    : undefined;
};

/**
 * Counts what a pipeline run left in the lake by reading the Parquet objects back, not by
 * trusting the stages' own counts: bronze parts of this run, the silver tables and gold models
 * (not the backfill's partitioned silver, which summarizeBackfill counts), this run's feature
 * records, and this run's quarantined rows with their reasons.
 *
 * @param store - the lake
 * @param options - the run's identity
 */
export const summarizeRun = async (
  store: ObjectStore,
  options: SummarizeOptions
): Promise<SummaryRow[]> =>
  withLakeReader(store, async ({ engine, parquet, count: countRows }) => {
    const rows: SummaryRow[] = [];
    const runPart = new RegExp(`/part-${options.runId.replace(/[.]/g, '\\.')}-\\d+\\.parquet$`);
    for (const [dataset, keys] of await grouped(store, 'bronze/', (key) => runPart.test(key))) {
      rows.push({
        layer: 'bronze',
        dataset,
        rows: await countRows(keys),
        location: `bronze/${dataset}/`,
      });
    }
    const runTime = `timestamptz ${quoteLiteral(new Date(options.runStartedAt).toISOString())}`;
    // A silver entity's table is the files its manifest lists (not the backfill's partitioned
    // silver, which has none and which summarizeBackfill counts).
    const silverTables: [string, string[]][] = [];
    const rewritten = new Map<string, string>();
    for await (const object of store.list('silver/')) {
      if (!object.key.endsWith('/_manifest.json')) continue;
      const manifest = await readSilverManifest(store, datasetOf(object.key));
      if (!manifest) continue;
      silverTables.push([manifest.table, manifest.files.map((file) => file.key)]);
      if (manifest.partitioning) {
        const written = manifest.files.filter((file) =>
          file.key.includes(`/part-${options.runId}-`)
        );
        rewritten.set(
          manifest.table,
          `${written.length} of ${manifest.files.length} partition(s) rewritten this run`
        );
      }
    }
    const tables = {
      silver: silverTables.sort(([a], [b]) => a.localeCompare(b)),
      gold: await grouped(store, 'gold/', (key) => key === Lake.goldModel(datasetOf(key))),
    };
    for (const layer of ['silver', 'gold'] as const) {
      for (const [dataset, keys] of tables[layer]) {
        const notes =
          layer === 'silver'
            ? [await silverNote(engine, await parquet(keys), runTime), rewritten.get(dataset)]
            : [];
        const note = notes.filter(Boolean).join('; ');
        rows.push({
          layer,
          dataset,
          rows: await countRows(keys),
          location: `${layer}/${dataset}/`,
          ...(note ? { note } : {}),
        });
      }
    }
    const featurePrefix = localOfflineRoot(options.featureGroup);
    const featureKeys: string[] = [];
    for await (const object of store.list(featurePrefix)) featureKeys.push(object.key);
    if (featureKeys.length > 0) {
      const eventTime = new Date(options.runStartedAt).toISOString();
      rows.push({
        layer: 'features',
        dataset: options.featureGroup,
        rows: await countRows(featureKeys, `event_time = ${quoteLiteral(eventTime)}`),
        location: featurePrefix,
      });
    }
    const quarantined = await grouped(store, 'quarantine/', (key) =>
      key.includes(`/run=${options.runId}/`)
    );
    for (const [dataset, keys] of quarantined) {
      const reasons = await engine.all(
        `select _quarantine_reason as reason, count(*) as n from ${await parquet(keys)} group by 1 order by 1`
      );
      for (const { reason, n } of reasons) {
        rows.push({
          layer: 'quarantine',
          dataset,
          rows: Number(n),
          location: `quarantine/${dataset}/run=${options.runId}/`,
          note: String(reason),
        });
      }
    }
    return rows;
  });
