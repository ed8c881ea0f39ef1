import { quoteLiteral } from '@strata/core/config';
import type { DuckDbEngine } from '@strata/core/engine';
import { Lake, readSilverManifest, type SilverManifest, silverRelation } from '@strata/core/lake';
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
 * What a run did to a table's files: the partitions it rewrote, or the delta it added to a
 * merge-on-read table.
 */
const filesNote = (manifest: SilverManifest, runId: string): string | undefined => {
  const written = manifest.files.filter((file) => file.key.includes(`/part-${runId}-`));
  if (manifest.partitioning) {
    return `${written.length} of ${manifest.files.length} partition(s) rewritten this run`;
  }
  if (!manifest.merge) return undefined;
  const deltas = manifest.files.filter((file) => file.delta).length;
  if (written.some((file) => file.delta)) {
    return `merge-on-read: base + ${deltas} delta(s), one written this run`;
  }
  return written.length > 0
    ? 'merge-on-read: a new base written this run'
    : `merge-on-read: base + ${deltas} delta(s), nothing written this run`;
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
  withLakeReader(store, async ({ engine, ws, parquet, count: countRows }) => {
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
    // A silver entity's table is what its manifest lists, read as every reader reads it (the
    // latest version of each row of a merge-on-read table); not the backfill's partitioned
    // silver, which has no manifest and which summarizeBackfill counts.
    const manifests: SilverManifest[] = [];
    for await (const object of store.list('silver/')) {
      if (!object.key.endsWith('/_manifest.json')) continue;
      const manifest = await readSilverManifest(store, datasetOf(object.key));
      if (manifest) manifests.push(manifest);
    }
    for (const manifest of manifests.sort((a, b) => a.table.localeCompare(b.table))) {
      const relation = await silverRelation({ store, engine, ws }, manifest, manifest.table);
      const notes = [
        relation ? await silverNote(engine, relation, runTime) : undefined,
        filesNote(manifest, options.runId),
      ];
      const note = notes.filter(Boolean).join('; ');
      rows.push({
        layer: 'silver',
        dataset: manifest.table,
        rows: relation ? await engine.scalarNumber(`select count(*) from ${relation}`) : 0,
        location: `silver/${manifest.table}/`,
        ...(note ? { note } : {}),
      });
    }
    const gold = await grouped(store, 'gold/', (key) => key === Lake.goldModel(datasetOf(key)));
    for (const [dataset, keys] of gold) {
      rows.push({
        layer: 'gold',
        dataset,
        rows: await countRows(keys),
        location: `gold/${dataset}/`,
      });
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
