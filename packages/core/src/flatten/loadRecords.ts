import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';

/** How a raw object turned out to be laid out. */
export type RawFormat = 'jsonl' | 'array' | 'documents' | 'empty' | 'unreadable';

export interface LoadedRecords {
  format: RawFormat;
  /** Well-formed records, now rows of `<table>_records (line_no, record JSON)`. */
  records: number;
  /** Lines that are not JSON, now rows of `<table>_rejected (line_no, text, reason)`. */
  rejected: number;
  /** Why the whole object could not be read (truncated gzip, a broken array…). */
  error?: string;
}

/** Reads each line as one VARCHAR, whatever it holds: no quoting, no delimiter, no inference. */
const lines = (path: string) =>
  `read_csv(${quoteLiteral(path)}, columns = {'line': 'VARCHAR'}, header = false, delim = '\\x01', quote = '', escape = '', auto_detect = false, null_padding = false)`;

const firstCharacter = async (path: string): Promise<string | undefined> => {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    for (let position = 0; ; position += buffer.length) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return undefined;
      const text = buffer.subarray(0, bytesRead).toString('utf8').trimStart();
      if (text) return text[0];
    }
  } finally {
    await handle.close();
  }
};

/**
 * Loads one raw object's records into DuckDB, without losing any: well-formed records go to
 * `<table>_records`, lines that are not JSON to `<table>_rejected` with their line number, and an
 * object that cannot be read at all is reported whole.
 *
 * Gzip is inflated by Node first, because DuckDB's reader returns nothing, rather than failing, on
 * a truncated gzip. The layout is detected, not trusted from the name: a leading `[` is one JSON
 * array; otherwise lines are records, unless the first line alone is not JSON and the whole file
 * parses as JSON values (one pretty-printed document, or several).
 *
 * @param engine - the engine to load into
 * @param path - the downloaded object
 * @param options - the name prefix for the two tables, whether the object is gzip, and a scratch path
 */
export const loadRecords = async (
  engine: DuckDbEngine,
  path: string,
  options: { table: string; gzip: boolean; scratch: string }
): Promise<LoadedRecords> => {
  const records = quoteIdentifier(`${options.table}_records`);
  const rejected = quoteIdentifier(`${options.table}_rejected`);
  await engine.run(`
    create or replace temp table ${records} (line_no bigint, record json);
    create or replace temp table ${rejected} (line_no bigint, text varchar, reason varchar);
  `);
  let plain = path;
  if (options.gzip) {
    try {
      await pipeline(createReadStream(path), createGunzip(), createWriteStream(options.scratch));
      plain = options.scratch;
    } catch (error) {
      return {
        format: 'unreadable',
        records: 0,
        rejected: 0,
        error: `gzip: ${(error as Error).message}`,
      };
    }
  }
  const counts = async (format: RawFormat): Promise<LoadedRecords> => ({
    format,
    records: await engine.scalarNumber(`select count(*) from ${records}`),
    rejected: await engine.scalarNumber(`select count(*) from ${rejected}`),
  });

  const first = (await stat(plain)).size === 0 ? undefined : await firstCharacter(plain);
  if (first === undefined) return counts('empty');

  if (first === '[') {
    try {
      await engine.run(
        `insert into ${records} select row_number() over () as line_no, json as record from read_json_objects(${quoteLiteral(plain)}, format = 'array')`
      );
      return counts('array');
    } catch (error) {
      return {
        format: 'unreadable',
        records: 0,
        rejected: 0,
        error: `JSON array: ${(error as Error).message}`,
      };
    }
  }

  await engine.run(`
    create or replace temp table ${quoteIdentifier(`${options.table}_lines`)} as
    select row_number() over () as line_no, line from ${lines(plain)}`);
  const linesTable = quoteIdentifier(`${options.table}_lines`);
  const firstLineIsJson = await engine.scalarNumber(
    `select count(*) from ${linesTable} where line_no = (select min(line_no) from ${linesTable} where line is not null and trim(line) <> '') and json_valid(line)`
  );
  if (!firstLineIsJson) {
    try {
      await engine.run(
        `insert into ${records} select row_number() over () as line_no, json as record from read_json_objects(${quoteLiteral(plain)}, format = 'unstructured')`
      );
      return counts('documents');
    } catch {
      // Not one document either: fall through and judge it line by line.
    }
  }
  await engine.run(`
    insert into ${records}
    select line_no, line::json from ${linesTable}
    where line is not null and trim(line) <> '' and json_valid(line);
    insert into ${rejected}
    select line_no, line, 'not valid JSON' from ${linesTable}
    where line is not null and trim(line) <> '' and not json_valid(line);
    drop table ${linesTable};`);
  return counts('jsonl');
};
