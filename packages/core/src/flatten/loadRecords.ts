import { open, stat } from 'node:fs/promises';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';

/** How a raw object turned out to be laid out. */
export type RawFormat = 'jsonl' | 'array' | 'documents' | 'empty' | 'unreadable';

export interface LoadedRecords {
  format: RawFormat;
  /** Well-formed records, now rows of `<table>_records (line_no, record JSON)`. */
  records: number;
  /** Lines that are not JSON objects, now rows of `<table>_rejected (line_no, text, reason)`. */
  rejected: number;
  /** Why the whole object could not be read (a broken array…). */
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
 * Moves the records that are JSON but not objects (a bare number, a list) to the rejected table,
 * and those with a key twice in one object: which value counts is anyone's guess (DuckDB's
 * functions read the first, JSON.parse the last), so rather than drop one, the record goes whole.
 */
const rejectNonRecords = (records: string, rejected: string) => `
  insert into ${rejected}
  select line_no, record::varchar, 'not a JSON object' from ${records} where json_type(record) <> 'OBJECT';
  delete from ${records} where json_type(record) <> 'OBJECT';
  create or replace temp table twice as
  select distinct line_no from ${records}, json_tree(record)
  where key is not null group by line_no, path, key having count(*) > 1;
  insert into ${rejected}
  select line_no, record::varchar, 'a key appears twice in one object' from ${records} where line_no in (from twice);
  delete from ${records} where line_no in (from twice);
  drop table twice;`;

/**
 * Loads one raw object's records into DuckDB, without losing any: records go to
 * `<table>_records`, lines that are not JSON objects to `<table>_rejected` with their line number
 * and the reason, and an object that cannot be read at all is reported whole. This is the slow,
 * line-by-line path for files the batch's fast read cannot take.
 *
 * The layout is detected, not trusted from the name: a leading `[` is one JSON array; otherwise
 * lines are records, unless the first line alone is not JSON and the whole file parses as JSON
 * values (one pretty-printed document, or several).
 *
 * @param engine - the engine to load into
 * @param plain - the object, inflated (see {@link inspectRawObject})
 * @param options - the name prefix for the tables
 */
export const loadRecords = async (
  engine: DuckDbEngine,
  plain: string,
  options: { table: string }
): Promise<LoadedRecords> => {
  const records = quoteIdentifier(`${options.table}_records`);
  const rejected = quoteIdentifier(`${options.table}_rejected`);
  await engine.run(`
    create or replace temp table ${records} (line_no bigint, record json);
    create or replace temp table ${rejected} (line_no bigint, text varchar, reason varchar);
  `);
  const counts = async (format: RawFormat): Promise<LoadedRecords> => {
    await engine.run(rejectNonRecords(records, rejected));
    return {
      format,
      records: await engine.scalarNumber(`select count(*) from ${records}`),
      rejected: await engine.scalarNumber(`select count(*) from ${rejected}`),
    };
  };

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
