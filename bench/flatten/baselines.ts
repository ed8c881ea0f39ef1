import { readFile } from 'node:fs/promises';
import { quoteLiteral } from '@strata/core/config';
import type { DuckDbEngine } from '@strata/core/engine';
import parquet, { type FieldDefinition } from 'parquetjs-lite';
import { duckColumns, duckFlatSelect, EVENT_LEAVES, flatName, flattenRecord } from './event.js';

/** The backlog's bytes as plain local files: what every baseline reads. */
export interface PlainBacklog {
  /** JSON-lines files (one-document files too: a document is one line). */
  lines: string[];
  /** Files holding one JSON array of records. */
  arrays: string[];
}

/**
 * (a) DuckDB on one thread, as a data engineer who knows the feed would write it: `read_json`
 * with the full hand-written schema (no inference), malformed lines skipped, every leaf selected
 * as its `a_b_c` column, `COPY … TO` ZSTD Parquet. No quarantine, no ledger, no object store.
 * `partitioned` writes Strata's layout instead of one file: year/month/day of the date, and mode.
 * `lossless` reads every scalar as text and casts it, keeping what does not fit in `_variant`,
 * as a reader that must lose no value does (the hand-written types would cast `"5"` to 5 and
 * `1.5` to 2 in a BIGINT column, and fail on `"N/A"`).
 *
 * @param engine - a DuckDB engine (threads=1 for a per-core figure)
 * @param input - the local files
 * @param out - the Parquet file (or, partitioned, the directory) to write
 * @param options - whether to partition, and to read losslessly
 */
export const duckDbCopy = async (
  engine: DuckDbEngine,
  input: PlainBacklog,
  out: string,
  options: { partitioned?: boolean; lossless?: boolean } = {}
): Promise<void> => {
  const lossless = options.lossless ?? false;
  const read = (files: readonly string[], format: string, extra = '') =>
    `select * from read_json([${files.map(quoteLiteral).join(', ')}], format = '${format}', columns = ${duckColumns(lossless)}${extra})`;
  const sources = [
    input.lines.length ? read(input.lines, 'newline_delimited', ', ignore_errors = true') : '',
    input.arrays.length ? read(input.arrays, 'array') : '',
  ].filter(Boolean);
  const flat = `select ${duckFlatSelect('r', lossless)} from (${sources.join(' union all ')}) as r`;
  await engine.run(
    options.partitioned
      ? `copy (select *, strftime("date", '%Y') as year, strftime("date", '%m') as month, strftime("date", '%d') as day from (${flat}))
         to ${quoteLiteral(out)} (format parquet, compression zstd, partition_by (year, month, day, mode), overwrite_or_ignore)`
      : `copy (${flat}) to ${quoteLiteral(out)} (format parquet, compression zstd)`
  );
};

/** Parses one local file's records; lines that are not JSON are counted, not thrown. */
const readRecords = async (
  path: string,
  array: boolean
): Promise<{ records: Record<string, unknown>[]; malformed: number }> => {
  const text = await readFile(path, 'utf8');
  if (array) return { records: JSON.parse(text), malformed: 0 };
  const records: Record<string, unknown>[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      malformed++;
    }
  }
  return { records, malformed };
};

/** Visits every record of the backlog, file by file. */
const forEachFile = async (
  input: PlainBacklog,
  visit: (records: Record<string, unknown>[]) => Promise<void> | void
): Promise<number> => {
  let rows = 0;
  for (const [files, array] of [
    [input.lines, false],
    [input.arrays, true],
  ] as const) {
    for (const path of files) {
      const { records } = await readRecords(path, array);
      rows += records.length;
      await visit(records);
    }
  }
  return rows;
};

/**
 * (b) The bare JavaScript loop: read each file, `JSON.parse` each line, flatten to `a_b_c`
 * keys. It writes nothing; it returns the rows and the flattened values it saw, so the work
 * cannot be skipped.
 *
 * @param input - the local files
 */
export const nodeLoop = async (input: PlainBacklog): Promise<{ rows: number; values: number }> => {
  let values = 0;
  const rows = await forEachFile(input, (records) => {
    for (const record of records) values += Object.keys(flattenRecord(record)).length;
  });
  return { rows, values };
};

/** parquetjs-lite's column for each DuckDB leaf type; dates, timestamps and lists as text. */
const PARQUETJS_TYPE: Record<string, FieldDefinition['type']> = {
  BIGINT: 'INT64',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
};

const PARQUETJS_COLUMNS = EVENT_LEAVES.map(({ path, type }) => ({
  name: flatName(path),
  type: PARQUETJS_TYPE[type] ?? 'UTF8',
}));

/**
 * (c) parquetjs-lite writing the rows (b) produces, one SNAPPY-compressed optional column per
 * leaf of the hand-written schema (parquetjs-lite has no ZSTD), text columns holding whatever
 * JSON value arrived as text.
 *
 * @param input - the local files
 * @param out - the Parquet file to write
 */
export const parquetjsLite = async (input: PlainBacklog, out: string): Promise<number> => {
  const schema = new parquet.ParquetSchema(
    Object.fromEntries(
      PARQUETJS_COLUMNS.map(({ name, type }) => [
        name,
        { type, optional: true, compression: 'SNAPPY' } as const,
      ])
    )
  );
  const writer = await parquet.ParquetWriter.openFile(schema, out);
  try {
    return await forEachFile(input, async (records) => {
      for (const record of records) {
        const flat = flattenRecord(record);
        const row: Record<string, unknown> = {};
        for (const { name, type } of PARQUETJS_COLUMNS) {
          const value = flat[name];
          if (value === undefined || value === null) continue;
          row[name] = type === 'UTF8' && typeof value !== 'string' ? JSON.stringify(value) : value;
        }
        await writer.appendRow(row);
      }
    });
  } finally {
    await writer.close();
  }
};
