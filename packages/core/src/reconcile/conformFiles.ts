import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, TerminalError } from '../errors/index.js';
import type { FlatColumn } from '../flatten/index.js';
import { eachLimited, writeParquetFile } from '../lake/index.js';
import type { ObjectStore } from '../ports/index.js';

/** A column a batch wrote with another type than its table now has. */
export interface ColumnCast {
  name: string;
  /** The table's type, which the file's column is rewritten to. */
  type: FlatColumn['type'];
}

/** Files rewritten at a time: each is downloaded, read and written once. */
const REWRITE_CONCURRENCY = 4;

/**
 * The columns of one batch's schema fragment whose type the merged schema widened: `BIGINT`
 * that another batch of the run saw as `DOUBLE`, or a leaf others saw as another kind (`JSON`).
 *
 * @param fragment - the columns the batch wrote, with the types it wrote them in
 * @param merged - the dataset's schema after the merge
 */
export const widenedColumns = (
  fragment: readonly FlatColumn[],
  merged: readonly FlatColumn[]
): ColumnCast[] => {
  const types = new Map(merged.map((column) => [column.name, column.type]));
  return fragment.flatMap((column) => {
    const type = types.get(column.name);
    return type !== undefined && type !== column.type ? [{ name: column.name, type }] : [];
  });
};

/** The SQL giving a column's values in its widened type: JSON text keeps each value's kind. */
const widened = (cast: ColumnCast) => {
  const column = quoteIdentifier(cast.name);
  return cast.type === 'JSON' ? `to_json(${column})` : `cast(${column} as ${cast.type})`;
};

/**
 * Rewrites silver files so every column has its table's type. Athena reads a Parquet column
 * only as the type its table declares (a file's INT64 is no DOUBLE to it), where DuckDB's
 * `union_by_name` would quietly unify them, so a column the merge widened is rewritten in the
 * files of the batches that wrote it narrower. Each file is replaced whole by one PUT, so a
 * reader sees the old file or the new one; a file already in the table's types (a retried
 * Reconcile) is left as it is. A value the cast cannot carry fails the run with
 * `Strata.BadInput` rather than becoming null.
 *
 * @param deps - the lake and an engine
 * @param files - silver keys and the casts each needs
 * @returns how many files were rewritten
 */
export const conformFiles = async (
  deps: { store: ObjectStore; engine: DuckDbEngine },
  files: readonly { key: string; casts: readonly ColumnCast[] }[]
): Promise<number> => {
  const todo = files.filter((file) => file.casts.length > 0);
  if (todo.length === 0) return 0;
  let rewritten = 0;
  await Workspace.use('conform', (ws) =>
    eachLimited(todo, REWRITE_CONCURRENCY, async (file, i) => {
      const source = ws.path(`${i}.parquet`);
      await deps.store.download(file.key, source);
      const read = `read_parquet(${quoteLiteral(source)})`;
      const described = await deps.engine.all(`describe select * from ${read}`);
      const has = new Map(
        described.map((row) => [String(row.column_name), String(row.column_type)])
      );
      const casts = file.casts.filter(
        (cast) => has.has(cast.name) && has.get(cast.name) !== cast.type
      );
      if (casts.length > 0) {
        const replace = casts.map((cast) => `${widened(cast)} as ${quoteIdentifier(cast.name)}`);
        const { local } = await writeParquetFile(
          { engine: deps.engine, ws },
          `select * replace (${replace.join(', ')}) from ${read}`,
          file.key
        ).catch((error: unknown) => {
          // Out of memory is the function's to answer, not the data's.
          if (error instanceof TerminalError) throw error;
          throw new BadInputError(
            `reconcile: ${file.key} cannot be rewritten with ${casts.map((cast) => `${cast.name} as ${cast.type}`).join(', ')}, the types its table now has: ${error instanceof Error ? error.message : String(error)}`
          );
        });
        await deps.store.upload(file.key, local, 'application/vnd.apache.parquet');
        rewritten++;
      }
    })
  );
  return rewritten;
};
