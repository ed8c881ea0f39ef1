import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, paginateScan } from '@aws-sdk/client-dynamodb';
import { quoteIdentifier, quoteLiteral } from '@strata/core/config';
import type { DuckDbEngine, JsonRow } from '@strata/core/engine';
import { BadInputError } from '@strata/core/errors';
import { LocalDynamoDb } from '../dynamodb/LocalDynamoDb.js';
import { LEDGER_TABLE, lakeDirectory } from '../runtime/EmbeddedRuntime.js';
import { S3RVER_OBJECT_SUFFIX } from '../s3/LocalS3.js';
import { textTable } from './summaryTable.js';

/** How `strata query` prints a result. */
export type QueryFormat = 'table' | 'csv' | 'json';

/** The Parquet objects under a prefix of the local lake, as files DuckDB reads. */
const parquetUnder = async (dir: string, prefix: string): Promise<string[]> => {
  const root = join(lakeDirectory(dir), prefix);
  if (!existsSync(root)) return [];
  return (await readdir(root, { recursive: true }))
    .filter((name) => name.endsWith(`.parquet${S3RVER_OBJECT_SUFFIX}`))
    .map((name) => join(root, name))
    .sort();
};

/**
 * Opens a local lake for SQL in `engine`: the catalog's views (`silver.<dataset>`, child tables
 * included) read-only, `gold.<model>` over each gold model's Parquet, and
 * `quarantine.<entity>` over the Snowflake entities' rejected rows, and `strata.ledger`, the
 * state of every raw object. Nothing else is installed: it is the engine the pipeline runs on.
 *
 * @param engine - an in-memory engine
 * @param dir - the runtime's `--dir`
 */
export const openLake = async (engine: DuckDbEngine, dir: string): Promise<void> => {
  const catalog = join(dir, 'catalog.duckdb');
  if (!existsSync(catalog)) {
    throw new BadInputError(
      `no Strata lake in ${dir} (no catalog.duckdb): run a backfill or npm start there first, or pass --dir`
    );
  }
  await engine.run(`attach ${quoteLiteral(catalog)} as lake (read_only)`);
  for (const schema of ['silver', 'gold', 'quarantine', 'strata']) {
    await engine.run(`create schema if not exists memory.${schema}`);
  }
  const views = await engine.all(
    "select view_name as table_name from duckdb_views() where database_name = 'lake' and schema_name = 'silver' order by view_name"
  );
  for (const { table_name } of views) {
    const name = quoteIdentifier(String(table_name));
    await engine.run(`create view memory.silver.${name} as select * from lake.silver.${name}`);
  }
  for (const layer of ['gold', 'quarantine'] as const) {
    const root = join(lakeDirectory(dir), layer);
    const datasets = existsSync(root) ? (await readdir(root)).sort() : [];
    for (const dataset of datasets) {
      const files = await parquetUnder(dir, `${layer}/${dataset}`);
      if (files.length === 0) continue;
      await engine.run(
        `create view memory.${layer}.${quoteIdentifier(dataset)} as select * from read_parquet([${files.map(quoteLiteral).join(', ')}], union_by_name = true)`
      );
    }
  }
  await loadLedger(engine, dir);
  await engine.run('use memory');
};

/** A ledger item's attribute as a plain value: DynamoDB's strings and numbers. */
const plain = (value: AttributeValue | undefined) =>
  value?.S ?? (value?.N === undefined ? null : Number(value.N));

/**
 * The ledger's entries as the table `strata.ledger` (one row per raw object: status, attempts,
 * batch, error), read from the runtime's DynamoDB files through dynalite for the moment of the
 * query.
 */
const loadLedger = async (engine: DuckDbEngine, dir: string) => {
  const path = join(dir, 'dynamodb');
  if (!existsSync(path)) return;
  const dynamo = await LocalDynamoDb.start({ path, tables: [] });
  const lines: string[] = [];
  try {
    for await (const page of paginateScan({ client: dynamo.client }, { TableName: LEDGER_TABLE })) {
      for (const item of page.Items ?? []) {
        lines.push(
          JSON.stringify({
            object_key: plain(item.object_key),
            status: plain(item.status),
            attempts: plain(item.attempts),
            batch_id: plain(item.batch_id),
            error: plain(item.error),
            updated_at: plain(item.updated_at),
            lease_until: plain(item.lease_until),
          })
        );
      }
    }
  } catch (error) {
    // A lake that never backfilled has no ledger table yet.
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  } finally {
    await dynamo.stop();
  }
  const file = join(tmpdir(), `strata-ledger-${process.pid}.jsonl`);
  await writeFile(file, lines.join('\n'));
  await engine.run(`
    create table memory.strata.ledger as
    select * from read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = {
      object_key: 'VARCHAR', status: 'VARCHAR', attempts: 'BIGINT', batch_id: 'VARCHAR',
      error: 'VARCHAR', updated_at: 'VARCHAR', lease_until: 'VARCHAR'
    })
    order by object_key`);
  await rm(file, { force: true });
};

/** A cell as text: nested values as their JSON, nulls empty. */
const cellText = (value: JsonRow[string]): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

/** A CSV field, quoted when it must be (RFC 4180). */
const csvField = (text: string) =>
  /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;

/**
 * A query's rows as `strata query` prints them: an aligned table, CSV with a header, or JSON
 * (one array of objects).
 *
 * @param rows - the result
 * @param format - how to print it
 */
export const formatRows = (rows: readonly JsonRow[], format: QueryFormat): string => {
  if (rows.length === 0 && format === 'table') return '(0 rows)';
  const columns = rows.length > 0 ? Object.keys(rows[0] as JsonRow) : [];
  if (format === 'json') return JSON.stringify(rows, null, 2);
  const body = rows.map((row) => columns.map((column) => cellText(row[column])));
  if (format === 'csv') {
    return [columns, ...body].map((line) => line.map(csvField).join(',')).join('\n');
  }
  const numeric = columns.flatMap((column, i) =>
    rows.every(
      (row) => typeof row[column] === 'number' || /^-?[0-9.]+$/.test(cellText(row[column]))
    )
      ? [i]
      : []
  );
  return `${textTable(columns, body, numeric)}\n(${rows.length} row${rows.length === 1 ? '' : 's'})`;
};
