import { z } from 'zod';
import { parseOrThrow, quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine, Workspace } from '../engine/index.js';
import type { ObjectStore } from '../ports/index.js';
import { latestRowsSql, SILVER_SEQ } from './mergeOnRead.js';

/** What a partition folder is named for a null partition value, as Hive and Athena name it. */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

const silverFileSchema = z.object({
  key: z.string().min(1),
  /** The file's partition value (its `<key>=<value>/` folder), or null in an unpartitioned table. */
  partition: z.string().nullable(),
  rows: z.number().int().nonnegative(),
  /** Of those, rows deleted at the source (`_deleted_at` set). */
  deleted: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /**
   * A merge-on-read table's delta: rows a run changed, read over the files before it (see
   * {@link silverManifestSchema}'s `merge`). Absent in a base file.
   */
  delta: z.literal(true).optional(),
});

/**
 * The one object that says which files a silver table is made of. A run writes its new files
 * under names no reader looks at yet and then replaces the manifest in one PUT, so a reader
 * that goes through the manifest sees the whole table before the run or the whole table after.
 */
export const silverManifestSchema = z.object({
  table: z.string().min(1),
  /** The run that published this version of the table. */
  runId: z.string().min(1),
  /**
   * The hive partition key (`o_orderdate_month`) and the SQL giving each row's value, or null
   * for an unpartitioned table: a run whose partitioning differs rewrites every file.
   */
  partitioning: z.object({ key: z.string().min(1), value: z.string().min(1) }).nullable(),
  /** The columns every file holds, as DuckDB reads them back: a type change rewrites all files. */
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  files: z.array(silverFileSchema),
  /**
   * Present on a merge-on-read table: its files hold versions of rows, each stamped with the
   * sequence of the run that wrote it (`_silver_seq`), and the table's rows are the latest
   * version of each `key` (silver's column names). `seq` is this version's sequence; `rows` and
   * `deleted` count the table's rows, which the files' own counts overstate.
   */
  merge: z
    .object({
      key: z.array(z.string().min(1)).min(1),
      seq: z.number().int().positive(),
      rows: z.number().int().nonnegative(),
      deleted: z.number().int().nonnegative(),
    })
    .optional(),
});

export type SilverManifest = z.infer<typeof silverManifestSchema>;
export type SilverFile = z.infer<typeof silverFileSchema>;

/** Where a silver table's manifest lives. */
export const silverManifestKey = (table: string) => `silver/${table}/_manifest.json`;

/**
 * The key of a file a run writes into a silver table: in the partition's hive folder when the
 * table is partitioned. The run's id is in the name, so a retry of the run overwrites its own
 * files and never those of the table version readers are looking at.
 */
export const silverFileKey = (
  table: string,
  runId: string,
  n: number,
  partition?: { key: string; value: string }
) =>
  `silver/${table}/${partition ? `${partition.key}=${partition.value}/` : ''}part-${runId}-${n}.parquet`;

/** Where a silver table lived as one object before tables had manifests. */
const legacyTableKey = (table: string) => `silver/${table}/current.parquet`;

/**
 * The table's manifest, or none when the table was never written. A table written as one
 * `current.parquet` before manifests existed reads as a manifest of that one file, so a lake
 * from an older version carries its silver (and its history) over.
 *
 * @param store - the lake
 * @param table - the silver table
 */
export const readSilverManifest = async (
  store: ObjectStore,
  table: string
): Promise<SilverManifest | undefined> => {
  const key = silverManifestKey(table);
  const body = await store.get(key);
  if (body) {
    return parseOrThrow(silverManifestSchema, JSON.parse(new TextDecoder().decode(body)), key);
  }
  const legacy = legacyTableKey(table);
  for await (const object of store.list(legacy)) {
    if (object.key !== legacy) continue;
    return {
      table,
      runId: 'legacy',
      partitioning: null,
      columns: [],
      files: [{ key: legacy, partition: null, rows: 0, deleted: 0, bytes: object.size }],
    };
  }
  return undefined;
};

/**
 * Downloads `files` of a silver table into the workspace and returns the relation reading them
 * all (columns unified by name), or null for no files.
 *
 * @param deps - lake and workspace
 * @param files - the files to read
 * @param label - a name for the local copies
 */
export const downloadSilverFiles = async (
  deps: { store: ObjectStore; ws: Workspace },
  files: readonly SilverFile[],
  label: string
): Promise<string | null> => {
  const locals: string[] = [];
  for (const file of files) {
    const local = deps.ws.path(`${label}-${locals.length}.parquet`);
    await deps.store.download(file.key, local);
    locals.push(quoteLiteral(local));
  }
  return locals.length > 0 ? `read_parquet([${locals.join(', ')}], union_by_name = true)` : null;
};

/**
 * Downloads a silver table's files into the workspace and returns the relation holding its
 * rows, or null for a table of no files. Every reader of a silver table goes through here: a
 * merge-on-read table's files hold several versions of a row, and this keeps the latest of
 * each key only (and drops `_silver_seq`), as the catalogs' views do.
 *
 * @param deps - lake, engine and workspace
 * @param manifest - the table's manifest
 * @param label - a name for the local copies
 */
export const silverRelation = async (
  deps: { store: ObjectStore; engine: DuckDbEngine; ws: Workspace },
  manifest: SilverManifest,
  label: string
): Promise<string | null> => {
  const files = await downloadSilverFiles(deps, manifest.files, label);
  if (!files) return null;
  const described = (await deps.engine.all(`describe select * from ${files}`)).map((row) =>
    String(row.column_name)
  );
  const columns = described.filter((name) => name !== SILVER_SEQ);
  if (manifest.merge) {
    return `(${latestRowsSql({ source: files, columns, key: manifest.merge.key })})`;
  }
  // Files a merge-on-read table wrote, read as a plain table, still hold no sequence for readers.
  return columns.length < described.length
    ? `(select ${columns.map(quoteIdentifier).join(', ')} from ${files})`
    : files;
};

/**
 * Reads a whole silver table into a view named `view` (see {@link silverRelation}).
 *
 * @param deps - lake, engine and workspace
 * @param table - the silver table
 * @param view - the view to create
 * @returns false when the table was never written (no view created)
 */
export const viewSilverTable = async (
  deps: { store: ObjectStore; engine: DuckDbEngine; ws: Workspace },
  table: string,
  view: string
): Promise<boolean> => {
  const manifest = await readSilverManifest(deps.store, table);
  if (!manifest) return false;
  const relation = await silverRelation(deps, manifest, `silver-${table}`);
  if (!relation) return false;
  await deps.engine.run(`create or replace view ${view} as select * from ${relation}`);
  return true;
};
