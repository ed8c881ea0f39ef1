import { quoteIdentifier, quoteLiteral } from '../config/index.js';

/**
 * The column a merge-on-read silver table's files carry beside the row: the sequence of the run
 * that wrote the version. Of a key's versions, the one with the highest sequence is the row.
 */
export const SILVER_SEQ = '_silver_seq';

/**
 * When a merge-on-read table folds its deltas into a new base: once the deltas would hold more
 * than `deltaShare` of the base's bytes, or there would be more than `deltas` of them. A reader
 * so reads at most 1.2 times the base's bytes, in at most 11 files, for a table whose runs
 * each change a few rows; the run that folds rewrites the table once.
 */
export const COMPACTION = { deltaShare: 0.2, deltas: 10 } as const;

/** The pseudo-column Athena gives each row of a Hive table: the `s3://` URI of its file. */
export const ATHENA_PATH = '"$path"';

/**
 * The SQL of a merge-on-read table's rows over `source`, a relation of its files' rows: the
 * latest version (highest `_silver_seq`) of each key, without the sequence. The text is plain
 * SQL that DuckDB and Athena (Trino) both run, so the local catalog's view and the Glue view
 * Athena reads are the same statement, and one test can run what Athena would.
 *
 * @param options - the source relation, the table's columns without `_silver_seq` in order,
 *   the merge key, and optionally the files to read: `paths.column` (Athena's `"$path"`) must be
 *   among `paths.values`, so files a run wrote and never published are never read
 *
 * @example
 * latestRowsSql({ source: '"silver"."customer__files"', columns: ['c_custkey', 'c_name'], key: ['c_custkey'] });
 */
export const latestRowsSql = (options: {
  source: string;
  columns: readonly string[];
  key: readonly string[];
  paths?: { column: string; values: readonly string[] };
}): string => {
  const { paths } = options;
  const where = paths
    ? `\n  where ${paths.column} in (${paths.values.map(quoteLiteral).join(', ')})`
    : '';
  return `select ${options.columns.map(quoteIdentifier).join(', ')}
from (
  select *, row_number() over (
    partition by ${options.key.map(quoteIdentifier).join(', ')}
    order by ${quoteIdentifier(SILVER_SEQ)} desc
  ) as "_silver_rank"
  from ${options.source}${where}
) as latest
where "_silver_rank" = 1`;
};
