import { z } from 'zod';
import { quoteIdentifier, quoteLiteral, type StrataConfig } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import { type BronzeManifest, readBronzeManifest } from '../extract/index.js';
import { assertRunId, catalogColumns, Lake, writeParquetFile } from '../lake/index.js';
import type { Catalog, ObjectStore, TableDefinition } from '../ports/index.js';
import { qualityScore, rejectReason, standardisedColumns } from './contract.js';
import {
  countHistory,
  createEmptyHistory,
  type HistoryConfig,
  type HistoryCounts,
  historySql,
} from './history.js';

export const bronzeToSilverInputSchema = z.object({
  runId: z.string().min(1),
  /** The Extract map's items: a committed manifest, or an entity that failed (skipped here). */
  extracts: z.array(
    z.union([
      z.object({ entity: z.string().min(1), manifestKey: z.string().min(1) }),
      z.object({
        entity: z.string().min(1),
        failed: z.literal(true),
        error: z.object({ Error: z.string(), Cause: z.string().optional() }),
      }),
    ])
  ),
});

export interface BronzeToSilverInput {
  runId: string;
  /** The Extract map's results: one manifest per entity. */
  extracts: readonly (
    | { entity: string; manifestKey: string }
    | { entity: string; failed: true; error: SkippedExtract['error'] }
  )[];
}

/** One silver dataset's reconciliation: rowsIn = rowsAccepted + rowsQuarantined. */
export interface SilverDataset {
  entity: string;
  key: string;
  rowsIn: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  /** Rows in the silver table after the upsert (previous state plus this run, deduplicated). */
  rowsOut: number;
  /** Of those, rows deleted at the source (a full refresh lacked them): `_deleted_at` is set. */
  rowsDeleted: number;
  /** The entity's history table (config `history`), when it keeps one. */
  history?: SilverHistory;
}

/** What a run left in an entity's history table. */
export interface SilverHistory extends HistoryCounts {
  table: string;
  key: string;
}

/** An entity whose extract failed: skipped here, reported at the end of the run. */
export interface SkippedExtract {
  entity: string;
  error: { Error: string; Cause?: string };
}

export interface BronzeToSilverResult {
  datasets: SilverDataset[];
  skipped: SkippedExtract[];
  /**
   * What the failure branch reports when any extract was skipped: the first one's error name,
   * and every skipped entity as JSON in the cause; null when none was.
   */
  extractFailure: { Error: string; Cause: string } | null;
}

export interface BronzeToSilverDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  config: StrataConfig;
  /** Where each silver table written is registered for queries (Glue, the local catalog). */
  catalog?: Catalog;
}

/** Downloads `key` to `path`; false when there is no such object. */
const downloadIfExists = async (
  store: ObjectStore,
  key: string,
  path: string
): Promise<boolean> => {
  for await (const object of store.list(key)) {
    if (object.key === key) {
      await store.download(key, path);
      return true;
    }
  }
  return false;
};

/** The silver table's rows, and those deleted at the source; none when there is no table. */
const countSilver = async (
  deps: BronzeToSilverDeps,
  ws: Workspace,
  key: string
): Promise<{ rows: number; deleted: number }> => {
  const local = ws.path('silver-count.parquet');
  if (!(await downloadIfExists(deps.store, key, local))) return { rows: 0, deleted: 0 };
  const table = `read_parquet(${quoteLiteral(local)})`;
  const columns = await deps.engine.all(`describe select * from ${table}`);
  // A table written before soft deletes has no _deleted_at: nothing in it was deleted.
  const deleted = columns.some((column) => column.column_name === '_deleted_at')
    ? await deps.engine.scalarNumber(`select count(*) from ${table} where _deleted_at is not null`)
    : 0;
  return { rows: await deps.engine.scalarNumber(`select count(*) from ${table}`), deleted };
};

/** What one entity's upsert will change in the lake, written locally and not yet published. */
interface PreparedUpsert {
  dataset: SilverDataset;
  /** Local files to upload, by key (the history table's with its counts). */
  uploads: { key: string; local: string; history?: SilverHistory }[];
  /** Keys to delete: an earlier attempt's quarantine this one does not rewrite. */
  deletes: string[];
  /** The catalog tables of the silver tables written, with the files' columns. */
  tables: TableDefinition[];
}

/** The catalog table of a silver table written to `local`: one object, no partitions. */
const silverTableOf = async (
  deps: BronzeToSilverDeps,
  table: string,
  local: string
): Promise<TableDefinition> => ({
  table,
  layer: 'silver',
  location: `silver/${table}/`,
  columns: catalogColumns(
    await deps.engine.all(`describe select * from read_parquet(${quoteLiteral(local)})`),
    `silver.${table}`
  ),
  partitionKeys: [],
});

/**
 * Prepares the upsert of one entity's bronze parts from this run into its silver table, in the
 * workspace: nothing in the lake changes until the run publishes every entity.
 *
 * Column names become lower snake case and values are standardised per the query's contract,
 * each row scored (`data_quality_score`); rows with a null primary key or required column go to
 * quarantine with the reason; the rest are merged with the existing silver table, keeping the
 * latest extract per key (soft-deleting what a full refresh lacks).
 * Rerunning the same run reproduces the same table, because the merge is keyed and deterministic.
 * An extract of no rows (an incremental entity with nothing new, an empty table) leaves the
 * table as it is.
 */
const prepareUpsert = async (
  deps: BronzeToSilverDeps,
  ws: Workspace,
  runId: string,
  manifest: BronzeManifest
): Promise<PreparedUpsert> => {
  const { entity } = manifest;
  const query = deps.config.queries.find((candidate) => candidate.name === entity);
  if (!query) throw new BadInputError(`bronze-to-silver: entity "${entity}" is not configured`);
  const io = { engine: deps.engine, ws };
  const table = (name: string) => quoteIdentifier(`${entity}__${name}`);
  const silverKey = Lake.silverTable(entity);
  const quarantineKey = Lake.quarantine(entity, runId);
  if (manifest.parts.length === 0) {
    // Nothing extracted this run (an empty extract writes no part, and so names no column): the
    // silver table stays as it is, and an earlier attempt's quarantine goes.
    const silver = await countSilver(deps, ws, silverKey);
    // Nor is an empty snapshot taken to mean every row was deleted: a source that returns
    // nothing more likely failed than emptied.
    return {
      dataset: {
        entity,
        key: silverKey,
        rowsIn: 0,
        rowsAccepted: 0,
        rowsQuarantined: 0,
        rowsOut: silver.rows,
        rowsDeleted: silver.deleted,
      },
      uploads: [],
      deletes: [quarantineKey],
      tables: [],
    };
  }

  const extracted = new Set(manifest.columns.map((column) => column.name.toLowerCase()));
  const absent = query.primary_key.filter((column) => !extracted.has(column.toLowerCase()));
  if (absent.length > 0) {
    throw new BadInputError(
      `bronze-to-silver ${entity}: primary key column(s) ${absent.join(', ')} not among the extracted columns (${manifest.columns.map((column) => column.name).join(', ')})`
    );
  }
  const undeclared = Object.values(query.contract ?? {})
    .flat()
    .filter((column) => !extracted.has(column.toLowerCase()));
  if (undeclared.length > 0) {
    throw new BadInputError(
      `bronze-to-silver ${entity}: contract column(s) ${[...new Set(undeclared)].join(', ')} not among the extracted columns`
    );
  }
  const primaryKey = query.primary_key.map((column) => quoteIdentifier(column.toLowerCase()));
  const rejected = '_reject_reason is not null';

  const files: string[] = [];
  for (const part of manifest.parts) {
    const local = ws.path(`${entity}-${files.length}.parquet`);
    await deps.store.download(part.key, local);
    files.push(quoteLiteral(local));
  }
  // Standardised first, so the null rules and the score judge what silver will hold.
  await deps.engine.run(
    `create or replace temp table ${table('incoming')} as
     select *, ${rejectReason(query.primary_key, query.contract)} as _reject_reason,
       ${qualityScore(manifest.columns, query.contract)} as data_quality_score
     from (select ${standardisedColumns(manifest.columns, query.contract)}
           from read_parquet([${files.join(', ')}]))`
  );
  const rowsIn = await deps.engine.scalarNumber(`select count(*) from ${table('incoming')}`);

  const rowsQuarantined = await deps.engine.scalarNumber(
    `select count(*) from ${table('incoming')} where ${rejected}`
  );
  const uploads: PreparedUpsert['uploads'] = [];
  const deletes: string[] = [];
  if (rowsQuarantined > 0) {
    const { local } = await writeParquetFile(
      io,
      `select * exclude (_reject_reason), _reject_reason as _quarantine_reason
       from ${table('incoming')} where ${rejected}`,
      quarantineKey
    );
    uploads.push({ key: quarantineKey, local });
  } else {
    // A retry that quarantines nothing must not leave an earlier attempt's rejects behind.
    deletes.push(quarantineKey);
  }

  const previousLocal = ws.path(`${entity}-previous.parquet`);
  const hasPrevious = await downloadIfExists(deps.store, silverKey, previousLocal);
  const previous = hasPrevious
    ? `select *, false as _seen from read_parquet(${quoteLiteral(previousLocal)}) union all by name `
    : '';
  const extractedAt = `timestamptz ${quoteLiteral(manifest.extractedAt)}`;
  // A full refresh is a snapshot: a key it lacks was deleted at the source, and stays in silver
  // with the time of the first snapshot that lacked it; a key that comes back is live again.
  const deletedAt =
    query.mode === 'full_refresh'
      ? `case when _seen then null else coalesce(_deleted_at, ${extractedAt}) end`
      : '_deleted_at';
  await deps.engine.run(
    `create or replace temp table ${table('current')} as
     select * exclude (_seen) replace (${deletedAt} as _deleted_at)
     from (${previous}select * exclude (_reject_reason), null::timestamptz as _deleted_at, true as _seen
           from ${table('incoming')} where not (${rejected}))
     qualify row_number() over (partition by ${primaryKey.join(', ')} order by _extracted_at desc, _batch desc, _seen desc) = 1
     order by ${primaryKey.join(', ')}`
  );
  const { local: silverLocal, rows: rowsOut } = await writeParquetFile(
    io,
    `select * from ${table('current')}`,
    silverKey
  );
  const rowsDeleted = await deps.engine.scalarNumber(
    `select count(*) from ${table('current')} where _deleted_at is not null`
  );
  if (query.history) {
    uploads.push(
      await prepareHistory(deps, ws, {
        entity,
        history: query.history,
        primaryKey: query.primary_key,
        extractedAt,
      })
    );
  }

  const rowsAccepted = await deps.engine.scalarNumber(
    `select count(*) from ${table('incoming')} where not (${rejected})`
  );
  if (rowsIn !== rowsAccepted + rowsQuarantined || rowsIn !== manifest.rows) {
    throw new QualityFailedError(
      `bronze-to-silver ${entity}: counts do not reconcile (manifest ${manifest.rows}, read ${rowsIn}, accepted ${rowsAccepted}, quarantined ${rowsQuarantined})`
    );
  }
  uploads.push({ key: silverKey, local: silverLocal });
  const history = uploads.find((upload) => upload.history);
  const tables = [await silverTableOf(deps, entity, silverLocal)];
  if (history?.history)
    tables.push(await silverTableOf(deps, history.history.table, history.local));
  return {
    dataset: {
      entity,
      key: silverKey,
      rowsIn,
      rowsAccepted,
      rowsQuarantined,
      rowsOut,
      rowsDeleted,
      ...(history?.history ? { history: history.history } : {}),
    },
    uploads,
    deletes,
    tables,
  };
};

/**
 * Writes the entity's new history (`silver/<history table>/current.parquet`) from its previous
 * one and the current state in `<entity>__current`, in the workspace.
 */
const prepareHistory = async (
  deps: BronzeToSilverDeps,
  ws: Workspace,
  options: {
    entity: string;
    history: HistoryConfig;
    primaryKey: readonly string[];
    extractedAt: string;
  }
): Promise<PreparedUpsert['uploads'][number]> => {
  const { entity, history } = options;
  const current = quoteIdentifier(`${entity}__current`);
  const previous = quoteIdentifier(`${entity}__history`);
  const key = Lake.silverTable(history.table);
  const previousLocal = ws.path(`${history.table}-previous.parquet`);
  if (await downloadIfExists(deps.store, key, previousLocal)) {
    await deps.engine.run(
      `create or replace temp table ${previous} as select * from read_parquet(${quoteLiteral(previousLocal)})`
    );
  } else {
    await createEmptyHistory(deps.engine, previous, current, history);
  }
  const { local } = await writeParquetFile(
    { engine: deps.engine, ws },
    historySql({
      current,
      previous,
      primaryKey: options.primaryKey,
      history,
    }),
    key
  );
  const counts = await countHistory(
    deps.engine,
    `read_parquet(${quoteLiteral(local)})`,
    options.extractedAt
  );
  return { key, local, history: { table: history.table, key, ...counts } };
};

/**
 * Types, deduplicates and upserts every extracted entity from bronze into silver: all
 * entities are prepared first and published together, so a failure applies none.
 *
 * @param input - the run and the Extract map's per-entity results
 * @param deps - lake, engine and config
 */
export const runBronzeToSilver = async (
  input: BronzeToSilverInput,
  deps: BronzeToSilverDeps
): Promise<BronzeToSilverResult> => {
  const runId = assertRunId(input.runId);
  return Workspace.use('bronze-to-silver', async (ws) => {
    const prepared: PreparedUpsert[] = [];
    const skipped: SkippedExtract[] = [];
    for (const extract of input.extracts) {
      if (!('manifestKey' in extract)) {
        skipped.push({ entity: extract.entity, error: extract.error });
        continue;
      }
      const manifest = await readBronzeManifest(deps.store, extract.manifestKey).catch(
        (error: Error) => {
          error.message = `bronze-to-silver: ${error.message}`;
          throw error;
        }
      );
      prepared.push(await prepareUpsert(deps, ws, runId, manifest));
    }
    // Every entity prepared: only now does the lake change, so an entity that fails leaves no
    // other half-applied. A retry prepares the same files again, the merge being deterministic.
    for (const { uploads, deletes } of prepared) {
      if (deletes.length > 0) await deps.store.delete(deletes);
      for (const { key, local } of uploads) {
        await deps.store.upload(key, local, 'application/vnd.apache.parquet');
      }
    }
    // Then the catalog, so a table never names columns its file does not have yet. Each file
    // is rewritten whole, so a widened column is widened in every file the table reads.
    for (const definition of prepared.flatMap((entity) => entity.tables)) {
      await deps.catalog?.upsertTable(definition);
    }
    const datasets = prepared.map((entity) => entity.dataset);
    const [first] = skipped;
    const extractFailure = first
      ? { Error: first.error.Error, Cause: JSON.stringify(skipped) }
      : null;
    return { datasets, skipped, extractFailure };
  });
};
