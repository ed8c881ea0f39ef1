import { z } from 'zod';
import { quoteIdentifier, quoteLiteral, type StrataConfig } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import { type BronzeManifest, readBronzeManifest } from '../extract/index.js';
import {
  assertRunId,
  Lake,
  readSilverManifest,
  type SilverManifest,
  silverManifestKey,
  silverRelation,
  writeParquetFile,
} from '../lake/index.js';
import type { Catalog, ObjectStore, TableDefinition } from '../ports/index.js';
import { qualityScore, rejectReason, standardisedColumns } from './contract.js';
import { prepareHistory, type SilverHistory } from './historyTable.js';
import {
  bytesOf,
  keepUnchanged,
  type MergedWrite,
  type TableWrite,
  writeMerged,
} from './mergedTable.js';
import { partitioningOf, writeSilverFiles } from './partitions.js';
import { countSilver, manifestOf, silverTableOf, touchedFiles } from './silverFiles.js';

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
  /** The table's manifest, which lists its files. */
  key: string;
  rowsIn: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  /** Rows in the silver table after the upsert (previous state plus this run, deduplicated). */
  rowsOut: number;
  /** Of those, rows deleted at the source (a full refresh lacked them): `_deleted_at` is set. */
  rowsDeleted: number;
  /**
   * Bytes of the silver files this run wrote: the partitions its rows touched, or for an
   * unpartitioned (merge-on-read) table the delta of the rows it changed.
   */
  bytesWritten: number;
  /** Bytes of every file of the silver table after the run. */
  bytesTotal: number;
  /** The entity's history table (config `history`), when it keeps one. */
  history?: SilverHistory;
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

/** What one entity's upsert will change in the lake, written locally and not yet published. */
interface PreparedUpsert {
  dataset: SilverDataset;
  /** Local files to upload, by key: new silver files and the quarantine. */
  uploads: { key: string; local: string }[];
  /** Keys to delete first: an earlier attempt's quarantine this one does not rewrite. */
  deletes: string[];
  /** The tables' new manifests, published once every file is uploaded. */
  manifests: SilverManifest[];
  /** Files the new manifests no longer list, deleted once they are published. */
  superseded: string[];
  /** The catalog tables of the silver tables written, with the files' columns. */
  tables: TableDefinition[];
}

/**
 * Prepares the upsert of one entity's bronze parts from this run into its silver table, in the
 * workspace: nothing in the lake changes until the run publishes every entity.
 *
 * Column names become lower snake case and values are standardised per the query's contract,
 * each row scored (`data_quality_score`); rows with a null primary key or required column go to
 * quarantine with the reason; the rest are merged with the rows of the silver files they touch,
 * keeping the latest extract per key (soft-deleting what a full refresh lacks), and those files
 * are written anew under this run's names; untouched files stay as they are.
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
  const quarantineKey = Lake.quarantine(entity, runId);
  const previous = await readSilverManifest(deps.store, entity);
  if (manifest.parts.length === 0) {
    // Nothing extracted this run (an empty extract writes no part, and so names no column): the
    // silver table stays as it is, and an earlier attempt's quarantine goes.
    const silver = await countSilver(deps, ws, previous);
    // Nor is an empty snapshot taken to mean every row was deleted: a source that returns
    // nothing more likely failed than emptied.
    return {
      dataset: {
        entity,
        key: silverManifestKey(entity),
        rowsIn: 0,
        rowsAccepted: 0,
        rowsQuarantined: 0,
        rowsOut: silver.rows,
        rowsDeleted: silver.deleted,
        bytesWritten: 0,
        bytesTotal: previous?.files.reduce((sum, file) => sum + file.bytes, 0) ?? 0,
      },
      uploads: [],
      deletes: [quarantineKey],
      manifests: [],
      superseded: [],
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
  const undeclared = [
    ...Object.values(query.contract ?? {}).flat(),
    ...(query.silver_partition ? [query.silver_partition.column] : []),
  ].filter((column) => !extracted.has(column.toLowerCase()));
  if (undeclared.length > 0) {
    throw new BadInputError(
      `bronze-to-silver ${entity}: contract or partition column(s) ${[...new Set(undeclared)].join(', ')} not among the extracted columns`
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
  await deps.engine.run(
    `create or replace temp view ${table('accepted')} as
     select * exclude (_reject_reason), null::timestamptz as _deleted_at, true as _seen
     from ${table('incoming')} where not (${rejected})`
  );

  const partitioning = partitioningOf(query);
  const key = query.primary_key.map((column) => column.toLowerCase());
  // A merge-on-read table's files hold versions of rows: it is read deduplicated, and whole.
  const rewritten = !previous
    ? []
    : previous.merge
      ? previous.files
      : await touchedFiles(deps, ws, {
          query,
          previous,
          partitioning,
          accepted: table('accepted'),
        });
  const read = previous
    ? await silverRelation(
        { store: deps.store, engine: deps.engine, ws },
        { ...previous, files: rewritten },
        entity
      )
    : null;
  const before = read ? table('before') : null;
  if (read) {
    await deps.engine.run(`create or replace temp table ${before} as select * from ${read}`);
  }
  const extractedAt = `timestamptz ${quoteLiteral(manifest.extractedAt)}`;
  await deps.engine.run(
    `create or replace temp view ${table('candidates')} as
     ${before ? `select *, false as _seen from ${before} union all by name ` : ''}select * from ${table('accepted')}`
  );
  // A full refresh is a snapshot: a key it lacks was deleted at the source, and stays in silver
  // with the time of the first snapshot that lacked it; a key that comes back is live again. A
  // snapshot older than the table (a redriven or late run) says nothing of what it lacks: it
  // deletes nothing. The table's time is its newest extract or delete, as an unchanged row
  // keeps the lineage of the extract that last changed it.
  const tableTime = `(select coalesce(max(greatest(_extracted_at, coalesce(_deleted_at, _extracted_at))), ${extractedAt}) from ${table('candidates')} where not _seen)`;
  const deletedAt =
    query.mode === 'full_refresh'
      ? `case when _seen then null when _extracted_at <= ${extractedAt} and ${extractedAt} >= ${tableTime} then coalesce(_deleted_at, ${extractedAt}) else _deleted_at end`
      : '_deleted_at';
  await deps.engine.run(
    `create or replace temp table ${table('merged')} as
     select * exclude (_seen) replace (${deletedAt} as _deleted_at)
     from ${table('candidates')}
     qualify row_number() over (partition by ${primaryKey.join(', ')} order by _extracted_at desc, _batch desc, _seen desc) = 1
     order by ${primaryKey.join(', ')}`
  );
  await keepUnchanged(deps.engine, {
    merged: table('merged'),
    before,
    key,
    target: table('current'),
  });
  const entityWrite: MergedWrite = partitioning
    ? await (async () => {
        const written = await writeSilverFiles(io, {
          relation: table('current'),
          table: entity,
          runId,
          partitioning,
        });
        const kept = (previous?.files ?? []).filter((file) => !rewritten.includes(file));
        return {
          written,
          manifest: await manifestOf(deps.engine, {
            table: entity,
            runId,
            partitioning,
            kept,
            written,
          }),
        };
      })()
    : // Keyed and unpartitioned: a run writes only the rows it changed (merge-on-read).
      await writeMerged(io, {
        table: entity,
        runId,
        key,
        rows: table('current'),
        previous,
        previousRows: before,
      });
  const writes: TableWrite[] = [{ ...entityWrite, before: previous }];
  let history: SilverHistory | undefined;
  if (query.history) {
    const prepared = await prepareHistory(
      { store: deps.store, engine: deps.engine, ws },
      {
        entity,
        runId,
        history: query.history,
        primaryKey: query.primary_key,
        extractedAt,
      }
    );
    history = prepared.counts;
    writes.push(prepared);
  }

  const rowsAccepted = await deps.engine.scalarNumber(`select count(*) from ${table('accepted')}`);
  if (rowsIn !== rowsAccepted + rowsQuarantined || rowsIn !== manifest.rows) {
    throw new QualityFailedError(
      `bronze-to-silver ${entity}: counts do not reconcile (manifest ${manifest.rows}, read ${rowsIn}, accepted ${rowsAccepted}, quarantined ${rowsQuarantined})`
    );
  }
  const manifests: SilverManifest[] = [];
  const tables: TableDefinition[] = [];
  const superseded: string[] = [];
  for (const write of writes) {
    uploads.push(...write.written.map(({ key, local }) => ({ key, local })));
    if (!write.manifest) {
      // A table the run changed none of keeps its manifest and files. Its catalog table is
      // upserted all the same (unchanged, as a rule): a run that died between its manifest's
      // PUT and the catalog left the view naming the files before it, and a retry has nothing
      // to write.
      if (write.before?.merge) tables.push(silverTableOf(write.before));
      continue;
    }
    manifests.push(write.manifest);
    if (write.written.length > 0) tables.push(silverTableOf(write.manifest));
    const listed = new Set(write.manifest.files.map((file) => file.key));
    superseded.push(
      ...(write.before?.files ?? []).map((file) => file.key).filter((k) => !listed.has(k))
    );
  }
  const after = entityWrite.manifest ?? previous;
  const silver = await countSilver(deps, ws, after);
  return {
    dataset: {
      entity,
      key: silverManifestKey(entity),
      rowsIn,
      rowsAccepted,
      rowsQuarantined,
      rowsOut: silver.rows,
      rowsDeleted: silver.deleted,
      bytesWritten: bytesOf(entityWrite.written),
      bytesTotal: bytesOf(after?.files ?? []),
      ...(history ? { history } : {}),
    },
    uploads,
    deletes,
    manifests,
    superseded,
    tables,
  };
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
    // other half-applied. New files go under this run's names, which no manifest lists yet;
    // each table then changes in one PUT of its manifest, so a reader sees all of a table
    // before the run or all of it after. A retry prepares the same files again, the merge
    // being deterministic.
    for (const { uploads, deletes } of prepared) {
      if (deletes.length > 0) await deps.store.delete(deletes);
      for (const { key, local } of uploads) {
        await deps.store.upload(key, local, 'application/vnd.apache.parquet');
      }
    }
    for (const manifest of prepared.flatMap((entity) => entity.manifests)) {
      await deps.store.put(
        silverManifestKey(manifest.table),
        JSON.stringify(manifest),
        'application/json'
      );
    }
    // Then the catalog, so a table never names columns its files do not have yet. A type change
    // rewrites every file of the table, so a widened column is widened in every file it reads.
    for (const definition of prepared.flatMap((entity) => entity.tables)) {
      await deps.catalog?.upsertTable(definition);
    }
    // Last, the files no manifest lists any more.
    const superseded = prepared.flatMap((entity) => entity.superseded);
    if (superseded.length > 0) await deps.store.delete(superseded);
    const datasets = prepared.map((entity) => entity.dataset);
    const [first] = skipped;
    const extractFailure = first
      ? { Error: first.error.Error, Cause: JSON.stringify(skipped) }
      : null;
    return { datasets, skipped, extractFailure };
  });
};
