import { type QueryConfig, quoteIdentifier } from '../config/index.js';
import type { DuckDbEngine, Workspace } from '../engine/index.js';
import {
  catalogColumns,
  downloadSilverFiles,
  NULL_PARTITION,
  type SilverFile,
  type SilverManifest,
} from '../lake/index.js';
import type { ObjectStore, TableDefinition } from '../ports/index.js';
import { fileColumns, type SilverPartitioning, type WrittenFile } from './partitions.js';

/** Lake and engine, as the helpers here need them. */
interface Deps {
  store: ObjectStore;
  engine: DuckDbEngine;
}

/** The `runId` a pre-manifest table's synthetic manifest carries. */
const LEGACY = 'legacy';

/**
 * The catalog table of a silver table: its location, its files' columns (as its manifest
 * records them), its partitions, and for a merge-on-read table its key and files.
 *
 * @param manifest - the table's manifest
 */
export const silverTableOf = (manifest: SilverManifest): TableDefinition => ({
  table: manifest.table,
  layer: 'silver',
  location: `silver/${manifest.table}/`,
  columns: catalogColumns(
    manifest.columns.map((column) => ({ column_name: column.name, column_type: column.type })),
    `silver.${manifest.table}`
  ),
  partitionKeys: manifest.partitioning
    ? [
        {
          key: manifest.partitioning.key,
          values: [...new Set(manifest.files.map((file) => file.partition ?? NULL_PARTITION))],
        },
      ]
    : [],
  ...(manifest.merge
    ? { merge: { key: manifest.merge.key, files: manifest.files.map((file) => file.key) } }
    : {}),
});

/**
 * Rows and deleted rows of a table: from its manifest, counted for a pre-manifest table.
 *
 * @param deps - lake and engine
 * @param ws - the workspace
 * @param manifest - the table's manifest, if it has one
 */
export const countSilver = async (
  deps: Deps,
  ws: Workspace,
  manifest: SilverManifest | undefined
): Promise<{ rows: number; deleted: number }> => {
  if (!manifest) return { rows: 0, deleted: 0 };
  if (manifest.merge) return { rows: manifest.merge.rows, deleted: manifest.merge.deleted };
  if (manifest.runId !== LEGACY) {
    return {
      rows: manifest.files.reduce((sum, file) => sum + file.rows, 0),
      deleted: manifest.files.reduce((sum, file) => sum + file.deleted, 0),
    };
  }
  const table = await downloadSilverFiles({ store: deps.store, ws }, manifest.files, 'count');
  if (!table) return { rows: 0, deleted: 0 };
  const columns = await deps.engine.all(`describe select * from ${table}`);
  // A table written before soft deletes has no _deleted_at: nothing in it was deleted.
  const deleted = columns.some((column) => column.column_name === '_deleted_at')
    ? await deps.engine.scalarNumber(`select count(*) from ${table} where _deleted_at is not null`)
    : 0;
  return { rows: await deps.engine.scalarNumber(`select count(*) from ${table}`), deleted };
};

/**
 * Whether the columns `relation` reads as are exactly `columns` (a widened type is not).
 *
 * @param engine - the engine
 * @param relation - a relation
 * @param columns - a manifest's columns
 */
export const sameColumns = async (
  engine: DuckDbEngine,
  relation: string,
  columns: SilverManifest['columns']
): Promise<boolean> => {
  const now = await engine.all(`describe select * from ${relation}`);
  return (
    now.length === columns.length &&
    now.every((column) =>
      columns.some(
        (before) => before.name === column.column_name && before.type === column.column_type
      )
    )
  );
};

/**
 * The previous files an upsert of a partitioned table rewrites. A full refresh (a snapshot: any
 * row may be gone), an unpartitioned table, and a table whose columns change (so every file
 * keeps the table's types, as Athena needs) rewrite all of them; otherwise only the partitions
 * the accepted rows fall in, and those a changed row leaves when its partition column is not
 * part of its key.
 *
 * @param deps - lake and engine
 * @param ws - the workspace
 * @param options - the query, the table's manifest, its new partitioning and the accepted rows
 */
export const touchedFiles = async (
  deps: Deps,
  ws: Workspace,
  options: {
    query: QueryConfig;
    previous: SilverManifest;
    partitioning: SilverPartitioning | null;
    accepted: string;
  }
): Promise<SilverFile[]> => {
  const { query, previous, partitioning, accepted } = options;
  if (
    !partitioning ||
    query.mode === 'full_refresh' ||
    previous.partitioning?.key !== partitioning.key ||
    previous.partitioning.value !== partitioning.value ||
    previous.columns.length === 0
  )
    return previous.files;
  const typed = previous.columns.map(
    (column) => `cast(null as ${column.type}) as ${quoteIdentifier(column.name)}`
  );
  const unified = `(select ${typed.join(', ')} where false) union all by name (select * exclude (_seen) from ${accepted} where false)`;
  if (!(await sameColumns(deps.engine, `(${unified})`, previous.columns))) return previous.files;
  const values = new Set(
    (await deps.engine.all(`select distinct ${partitioning.value} as p from ${accepted}`)).map(
      (row) => String(row.p)
    )
  );
  const keyColumns = query.primary_key.map((column) => column.toLowerCase());
  if (!keyColumns.includes(query.silver_partition?.column.toLowerCase() ?? '')) {
    // A row whose partition column changed sits in another partition before this run.
    const others = previous.files.filter((file) => !values.has(file.partition ?? NULL_PARTITION));
    const relation = await downloadSilverFiles({ store: deps.store, ws }, others, 'moved');
    if (relation) {
      const on = keyColumns.map((c) => `p.${quoteIdentifier(c)} = a.${quoteIdentifier(c)}`);
      const moved = await deps.engine.all(
        `select distinct p._p as p
         from (select ${keyColumns.map(quoteIdentifier).join(', ')}, ${partitioning.value} as _p from ${relation}) as p
         semi join ${accepted} as a on ${on.join(' and ')}`
      );
      for (const row of moved) values.add(String(row.p));
    }
  }
  return previous.files.filter((file) => values.has(file.partition ?? NULL_PARTITION));
};

/**
 * A table's new manifest: the files it keeps and those this run wrote, with their columns.
 *
 * @param engine - the engine
 * @param options - the table, the run, its partitioning, the files kept and written, and for a
 *   merge-on-read table its merge state
 */
export const manifestOf = async (
  engine: DuckDbEngine,
  options: {
    table: string;
    runId: string;
    partitioning: SilverPartitioning | null;
    kept: readonly SilverFile[];
    written: readonly WrittenFile[];
    merge?: SilverManifest['merge'];
    /** The columns, when no file was written to read them from. */
    columns?: SilverManifest['columns'];
  }
): Promise<SilverManifest> => {
  const [sample] = options.written;
  const columns = sample
    ? (await fileColumns(engine, sample.local)).map((column) => ({
        name: String(column.column_name),
        type: String(column.column_type),
      }))
    : (options.columns ?? []);
  return {
    table: options.table,
    runId: options.runId,
    partitioning: options.partitioning,
    columns,
    files: [...options.kept, ...options.written.map(({ local: _local, ...file }) => file)].sort(
      (a, b) => a.key.localeCompare(b.key)
    ),
    ...(options.merge ? { merge: options.merge } : {}),
  };
};
