import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine, Workspace } from '../engine/index.js';
import type { ObjectStore } from '../ports/index.js';

/**
 * Writes the result of `query` as one ZSTD Parquet file in the workspace, named after the key it
 * is meant for, and returns its path and row count: what {@link writeParquetObject} uploads, for
 * a stage that publishes several objects only once all are written.
 *
 * @param deps - engine and workspace
 * @param query - a DuckDB select
 * @param key - the destination key
 */
export const writeParquetFile = async (
  deps: { engine: DuckDbEngine; ws: Workspace },
  query: string,
  key: string
): Promise<{ local: string; rows: number }> => {
  const local = deps.ws.path(key.replaceAll('/', '_'));
  await deps.engine.run(
    // Newlines keep a trailing `--` comment in the query from swallowing the closing parenthesis.
    `copy (\n${query}\n) to ${quoteLiteral(local)} (format parquet, compression zstd)`
  );
  const rows = await deps.engine.scalarNumber(
    `select count(*) from read_parquet(${quoteLiteral(local)})`
  );
  return { local, rows };
};

/**
 * Writes the result of `query` as one ZSTD Parquet object and returns its row count.
 *
 * The file is written completely in the workspace first and then uploaded in one PUT, so a
 * reader never sees a half-written object under a final name.
 *
 * @param deps - engine, workspace and store
 * @param query - a DuckDB select
 * @param key - the destination key
 */
export const writeParquetObject = async (
  deps: { engine: DuckDbEngine; ws: Workspace; store: ObjectStore },
  query: string,
  key: string
): Promise<number> => {
  const { local, rows } = await writeParquetFile(deps, query, key);
  await deps.store.upload(key, local, 'application/vnd.apache.parquet');
  return rows;
};
