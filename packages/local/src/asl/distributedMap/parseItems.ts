import { named } from '../LocalIntegrations.js';
import type { ReaderConfig } from './shapes.js';

/** ReaderConfig.CSVDelimiter values (input-output-itemreader.html); COMMA is the default. */
const DELIMITERS = { COMMA: ',', PIPE: '|', SEMICOLON: ';', SPACE: ' ', TAB: '\t' } as const;

/**
 * Splits delimited text into records by the rules of example-csv-parse-dist-map.html: newlines
 * separate records; double quotes may enclose delimiters and newlines and are kept by doubling
 * them; a backslash escapes a backslash, a double quote or the delimiter, and before any other
 * character it is dropped. Blank lines yield no record.
 *
 * @param text - the whole object
 * @param delimiter - the field separator
 */
export const parseDelimited = (text: string, delimiter: string): string[][] => {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let touched = false; // the record has content, so a newline ends it
  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    if (touched) {
      endField();
      records.push(record);
    }
    record = [];
    field = '';
    touched = false;
  };
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char === '\\' && i + 1 < text.length) {
      // Only the escaped character survives, whatever it is.
      field += text[i + 1];
      i += 1;
      touched = true;
    } else if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
      touched = true;
    } else if (char === delimiter) {
      endField();
      touched = true;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      endRecord();
    } else {
      field += char;
      touched = true;
    }
  }
  endRecord();
  return records;
};

/** The reader could not make items of the object: AWS fails the Map with this error. */
export const itemReaderFailed = (message: string): Error =>
  named('States.ItemReaderFailed', message);

/**
 * Turns an S3 object's text into the Map's items, as `InputType` says:
 * - `JSON`: the object is a JSON array; each element is an item;
 * - `JSONL`: each non-blank line is one JSON item;
 * - `CSV`: each record is an object keyed by the headers (first row, or `CSVHeaders` with
 *   `CSVHeaderLocation: GIVEN`); values stay strings; a short row is padded with empty strings
 *   and a long row's extra fields are skipped (example-csv-parse-dist-map.html).
 *
 * `MANIFEST` (S3 inventory) and `PARQUET` are not emulated and throw.
 *
 * @param body - the object's text
 * @param config - the ItemReader's ReaderConfig
 */
export const parseItems = (body: string, config: ReaderConfig): unknown[] => {
  switch (config.InputType) {
    case 'JSON': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch (error) {
        throw itemReaderFailed(
          `the JSON item source is not valid JSON: ${(error as Error).message}`
        );
      }
      if (!Array.isArray(parsed)) throw itemReaderFailed('the JSON item source is not an array');
      return parsed;
    }
    case 'JSONL':
      return body
        .split(/\r?\n/)
        .filter((line) => line.trim() !== '')
        .map((line, index) => {
          try {
            return JSON.parse(line) as unknown;
          } catch (error) {
            throw itemReaderFailed(`line ${index + 1} is not JSON: ${(error as Error).message}`);
          }
        });
    case 'CSV': {
      const delimiter = DELIMITERS[config.CSVDelimiter ?? 'COMMA'];
      if (!delimiter) throw itemReaderFailed(`unknown CSVDelimiter ${config.CSVDelimiter}`);
      const records = parseDelimited(body, delimiter);
      const given = config.CSVHeaderLocation === 'GIVEN';
      const headers = given ? config.CSVHeaders : records.shift();
      if (!headers || headers.length === 0)
        throw itemReaderFailed('the CSV item source has no headers');
      return records.map((values) =>
        Object.fromEntries(headers.map((header, i) => [header, values[i] ?? '']))
      );
    }
    default:
      throw itemReaderFailed(
        `ItemReader InputType ${config.InputType} is not emulated locally (JSON, JSONL and CSV are)`
      );
  }
};
