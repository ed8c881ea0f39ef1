import { mkdir, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { type QueryConfig, quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine, Workspace } from '../engine/index.js';
import { NULL_PARTITION, type SilverFile, silverFileKey } from '../lake/index.js';

/** A silver table's hive partition: the folder key and the SQL of each row's value. */
export interface SilverPartitioning {
  key: string;
  /** The row's partition value as text, over silver's (lower-case) column names. */
  value: string;
}

const DATE_FORMATS = { year: '%Y', month: '%Y-%m', day: '%Y-%m-%d' } as const;

/**
 * How a query's silver table is partitioned (its `silver_partition`), or null for one file:
 * `<column>_<year|month|day>` for a date grain, `<column>_range` (each range's first value) for
 * a numeric width.
 *
 * @param query - the query
 */
export const partitioningOf = (query: QueryConfig): SilverPartitioning | null => {
  const declared = query.silver_partition;
  if (!declared) return null;
  const name = declared.column.toLowerCase();
  const column = quoteIdentifier(name);
  const value =
    typeof declared.by === 'number'
      ? `(floor(${column} / ${declared.by}) * ${declared.by})::bigint::varchar`
      : `strftime(${column}, ${quoteLiteral(DATE_FORMATS[declared.by])})`;
  return {
    key: `${name}_${typeof declared.by === 'number' ? 'range' : declared.by}`,
    value: `coalesce(${value}, ${quoteLiteral(NULL_PARTITION)})`,
  };
};

/**
 * The columns of a file {@link writeSilverFiles} wrote, as `describe` gives them: its own, not
 * the partition column DuckDB would read from its hive folder.
 *
 * @param engine - the engine
 * @param local - the file
 */
export const fileColumns = (engine: DuckDbEngine, local: string) =>
  engine.all(
    `describe select * from read_parquet(${quoteLiteral(local)}, hive_partitioning = false)`
  );

/** A file {@link writeSilverFiles} wrote in the workspace, with what its manifest entry says. */
export interface WrittenFile extends SilverFile {
  local: string;
}

/**
 * Writes `relation` as a silver table's files for this run, in the workspace: one file, or one
 * per partition value (DuckDB's partitioned COPY) named as {@link silverFileKey} names them.
 *
 * @param deps - engine and workspace
 * @param options - the rows, the table, the run and the table's partitioning
 */
export const writeSilverFiles = async (
  deps: { engine: DuckDbEngine; ws: Workspace },
  options: {
    relation: string;
    table: string;
    runId: string;
    partitioning: SilverPartitioning | null;
  }
): Promise<WrittenFile[]> => {
  const { engine, ws } = deps;
  const { table, runId, partitioning } = options;
  const dir = ws.path(`write-${table}`);
  const target = partitioning ? dir : `${dir}/part-${runId}-0.parquet`;
  const select = partitioning
    ? `select *, ${partitioning.value} as ${quoteIdentifier(partitioning.key)} from ${options.relation}`
    : `select * from ${options.relation}`;
  const layout = partitioning
    ? `, partition_by (${quoteIdentifier(partitioning.key)}), filename_pattern ${quoteLiteral(`part-${runId}-{i}`)}`
    : '';
  await mkdir(dir, { recursive: true });
  await engine.run(
    `copy (\n${select}\n) to ${quoteLiteral(target)} (format parquet, compression zstd${layout})`
  );
  // A partitioned COPY of no rows writes no file; an unpartitioned one writes an empty file,
  // which stays: an empty table still has its columns.
  const written = await engine.all(`select file from glob(${quoteLiteral(`${dir}/**/*.parquet`)})`);
  const counts =
    written.length === 0
      ? []
      : await engine.all(
          `select filename, count(*) as rows, count(*) filter (where _deleted_at is not null) as deleted
           from read_parquet(${quoteLiteral(`${dir}/**/*.parquet`)}, filename = true, hive_partitioning = false)
           group by filename`
        );
  const byFile = new Map(counts.map((row) => [String(row.filename), row]));
  const files: WrittenFile[] = [];
  for (const { file } of written) {
    const local = String(file);
    const row = byFile.get(local);
    const [folder, name] = relative(dir, local).split(sep).slice(-2);
    const value = partitioning ? (folder ?? '').slice(partitioning.key.length + 1) : null;
    const n = Number(/-(\d+)\.parquet$/.exec(name ?? folder ?? '')?.[1] ?? 0);
    files.push({
      key: silverFileKey(
        table,
        runId,
        n,
        partitioning && value !== null ? { key: partitioning.key, value } : undefined
      ),
      partition: value,
      rows: Number(row?.rows ?? 0),
      deleted: Number(row?.deleted ?? 0),
      bytes: (await stat(local)).size,
      local,
    });
  }
  return files.sort((a, b) => a.key.localeCompare(b.key));
};
