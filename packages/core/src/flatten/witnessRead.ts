import { writeFile } from 'node:fs/promises';
import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { maximumObjectSize } from './constants.js';
import { type ReadShape, readJsonColumns } from './structure.js';

/*
 * Given its columns, DuckDB's JSON reader drops every other key silently; when it detects them
 * itself, a record with a key it did not detect, a key twice, a scalar where it detected an
 * object, or a line that holds a scalar or a list fails the read (a `null` line reads as a row
 * of nulls: Node masks every line that cannot hold an object first). A witness file of two
 * records, first in the list and the only ones detection samples, makes it detect exactly the
 * planned columns, so one read both writes a batch and proves that no key of it was left out.
 */

/**
 * The witness's two records: every object with all its fields, text in every leaf except the
 * JSON columns, which hold text in one record and a list in the other (DuckDB calls that JSON).
 */
const witnessRecords = (shape: ReadShape): [unknown, unknown] => {
  const value = (node: ReadShape, n: 0 | 1): unknown =>
    typeof node === 'string'
      ? node === 'JSON' && n === 1
        ? [1]
        : 'x'
      : Object.fromEntries(Object.entries(node).map(([key, child]) => [key, value(child, n)]));
  return [value(shape, 0), value(shape, 1)];
};

/**
 * Writes the witness of `shape`, as JSON Lines.
 *
 * @example
 * ```ts
 * await writeWitness({ id: 'VARCHAR', user: { name: 'VARCHAR' }, tags: 'JSON' }, ws.path('witness.jsonl'));
 * // {"id":"x","user":{"name":"x"},"tags":"x"}
 * // {"id":"x","user":{"name":"x"},"tags":[1]}
 * ```
 *
 * @param shape - how the batch's records are read
 * @param path - where the witness goes
 */
export const writeWitness = async (
  shape: { [key: string]: ReadShape },
  path: string
): Promise<void> => {
  const [first, second] = witnessRecords(shape);
  await writeFile(path, `${JSON.stringify(first)}\n${JSON.stringify(second)}\n`);
};

/**
 * `read_json` over the witness and then the JSON Lines files `paths`, detecting its columns
 * from the witness alone; the witness's records are `file_index` 0.
 *
 * @example
 * ```ts
 * await engine.run(`copy (select * from ${witnessedRead(witness, { paths, longestRecord })} where file_index > 0) to 'out.parquet'`);
 * ```
 *
 * @param witness - the file {@link writeWitness} wrote
 * @param files - the files to read, and the bytes of their longest record
 */
export const witnessedRead = (
  witness: string,
  files: { paths: readonly string[]; longestRecord?: number }
): string =>
  `read_json([${[witness, ...files.paths].map(quoteLiteral).join(', ')}], format = 'newline_delimited', records = true, sample_size = 2, maximum_sample_files = 1, map_inference_threshold = -1, field_appearance_threshold = 0, ${maximumObjectSize(files.longestRecord ?? 0)})`;

/**
 * Whether DuckDB detects from the witness exactly the columns `shape` plans (keys that differ
 * only in case, for one, it would rename).
 *
 * @example
 * ```ts
 * if (await witnessHolds(engine, witness, shape)) await engine.run(copyWith(witnessedRead(witness, files)));
 * ```
 *
 * @param engine - the engine
 * @param witness - the file {@link writeWitness} wrote for `shape`
 * @param shape - how the batch's records are read
 */
export const witnessHolds = async (
  engine: DuckDbEngine,
  witness: string,
  shape: { [key: string]: ReadShape }
): Promise<boolean> => {
  const describe = (reader: string) =>
    engine.all(`select column_name, column_type from (describe select * from ${reader})`);
  try {
    const detected = await describe(witnessedRead(witness, { paths: [] }));
    const planned = await describe(
      `read_json(${quoteLiteral(witness)}, format = 'newline_delimited', records = true, columns = ${readJsonColumns(shape)})`
    );
    return JSON.stringify(detected) === JSON.stringify(planned);
  } catch {
    // Columns DuckDB cannot read as planned at all: the key pass path meets and reports them.
    return false;
  }
};
