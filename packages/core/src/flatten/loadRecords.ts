import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat, writeFile } from 'node:fs/promises';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { MAX_RECORD_BYTES, maximumObjectSize } from './constants.js';
import { keysTwice } from './keysTwice.js';
import { strictRejection, UNUSUAL_RE2 } from './strictJson.js';

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

const isSpace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

/**
 * Copies a file's non-blank lines, split at `\n` only (as Node's scan and DuckDB's JSON reader
 * split them), into JSON Lines `{"n": line number, "t": text}` for DuckDB to read: `read_csv`
 * as a line reader splits at a lone `\r` too, fails on a file that mixes `\r\n` and `\n`, and
 * reads a line past `max_line_size` as nothing. Returns the first non-blank line's text, and
 * the length of the longest line written.
 */
const writeLines = async (
  plain: string,
  out: string
): Promise<{ first?: string; longest: number }> => {
  const file = createWriteStream(out);
  const finished = once(file, 'finish');
  let first: string | undefined;
  let longest = 0;
  let line = 0;
  let pieces: Buffer[] = [];
  const write = async (bytes: Buffer) => {
    line++;
    if (!bytes.some((byte) => !isSpace(byte))) return;
    const text = bytes.toString('utf8');
    first ??= text;
    const record = `{"n":${line},"t":${JSON.stringify(text)}}\n`;
    longest = Math.max(longest, record.length);
    if (!file.write(record)) await once(file, 'drain');
  };
  for await (const chunk of createReadStream(plain, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end >= 0; end = chunk.indexOf(0x0a, start)) {
      pieces.push(chunk.subarray(start, end));
      await write(pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces));
      pieces = [];
      start = end + 1;
    }
    if (start < chunk.length) pieces.push(chunk.subarray(start));
  }
  if (pieces.length > 0) await write(Buffer.concat(pieces));
  file.end();
  await finished;
  return { ...(first === undefined ? {} : { first }), longest };
};

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
 * Moves the records DuckDB's lenient parser took but RFC 8259 does not (`NaN`, a trailing
 * comma…), or whose numbers DuckDB would change, to the rejected table with the reason: DuckDB's
 * regular expression picks the few records worth it, and `strictRejection` judges each.
 */
const rejectLenient = async (
  engine: DuckDbEngine,
  tables: { records: string; rejected: string },
  scratch: string
) => {
  const refused = (
    await engine.all(
      `select line_no, record::varchar as text from ${tables.records} where regexp_matches(record::varchar, ${quoteLiteral(UNUSUAL_RE2)})`
    )
  ).flatMap((row) => {
    const text = String(row.text);
    const reason = strictRejection(text);
    return reason ? [JSON.stringify({ line: Number(row.line_no), text, reason })] : [];
  });
  if (refused.length === 0) return;
  await writeFile(scratch, refused.join('\n'));
  const size = maximumObjectSize(Math.max(...refused.map((line) => line.length)));
  const read = `read_json(${quoteLiteral(scratch)}, format = 'newline_delimited', columns = {line: 'BIGINT', text: 'VARCHAR', reason: 'VARCHAR'}, ${size})`;
  await engine.run(`
    insert into ${tables.rejected} select line, text, reason from ${read};
    delete from ${tables.records} where line_no in (select line from ${read});`);
};

/**
 * Moves the records that are JSON but not objects (a bare number, a list) to the rejected table,
 * and those with a key twice in one object ({@link keysTwice}): which value counts is anyone's
 * guess (DuckDB's functions read the first, JSON.parse the last), so rather than drop one, the
 * record goes whole.
 */
const rejectNonRecords = (records: string, rejected: string, twice: ReadonlySet<number>) => {
  const lines = `[${[...twice].join(', ')}]::bigint[]`;
  return `
  insert into ${rejected}
  select line_no, record::varchar, 'not a JSON object' from ${records} where json_type(record) <> 'OBJECT';
  delete from ${records} where json_type(record) <> 'OBJECT';
  insert into ${rejected}
  select line_no, record::varchar, 'a key appears twice in one object' from ${records} where list_contains(${lines}, line_no);
  delete from ${records} where list_contains(${lines}, line_no);`;
};

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
  const counts = async (format: Exclude<RawFormat, 'unreadable'>): Promise<LoadedRecords> => {
    const twice = format === 'empty' ? new Set<number>() : await keysTwice(plain, format);
    await engine.run(rejectNonRecords(records, rejected, twice));
    await rejectLenient(engine, { records, rejected }, `${plain}.refused.jsonl`);
    return {
      format,
      records: await engine.scalarNumber(`select count(*) from ${records}`),
      rejected: await engine.scalarNumber(`select count(*) from ${rejected}`),
    };
  };

  const bytes = (await stat(plain)).size;
  const first = bytes === 0 ? undefined : await firstCharacter(plain);
  if (first === undefined) return counts('empty');
  // An element or a document may span lines: the file's text bounds it.
  const objectSize = maximumObjectSize(Math.min(bytes, MAX_RECORD_BYTES));

  if (first === '[') {
    try {
      await engine.run(
        `insert into ${records} select row_number() over () as line_no, json as record from read_json_objects(${quoteLiteral(plain)}, format = 'array', ${objectSize})`
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

  const lines = `${plain}.lines.jsonl`;
  const written = await writeLines(plain, lines);
  if (written.first !== undefined && strictRejection(written.first) === 'not valid JSON') {
    try {
      await engine.run(
        `insert into ${records} select row_number() over () as line_no, json as record from read_json_objects(${quoteLiteral(plain)}, format = 'unstructured', ${objectSize})`
      );
      await rm(lines);
      return counts('documents');
    } catch {
      // Not one document either: fall through and judge it line by line.
    }
  }
  const read = `read_json(${quoteLiteral(lines)}, format = 'newline_delimited', columns = {n: 'BIGINT', t: 'VARCHAR'}, ${maximumObjectSize(written.longest)})`;
  await engine.run(`
    insert into ${records} select n, t::json from ${read} where json_valid(t);
    insert into ${rejected} select n, t, 'not valid JSON' from ${read} where not json_valid(t);`);
  await rm(lines);
  return counts('jsonl');
};
