import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { HIVE_NULL, PARTITION_KEYS } from './constants.js';
import type { DuckType } from './duckType.js';
import { FlattenLayout } from './flattenLayout.js';
import { jsonPath, quoteKey, type ReadShape } from './structure.js';
import type { PartitionFields } from './types.js';

/**
 * The hive keys of a feed's silver folders, in path order: `year`, `month`, `day` for a date,
 * `mode` for a mode, none for neither.
 */
export const partitionKeys = (fields: PartitionFields): string[] =>
  PARTITION_KEYS.filter((key) => (key === 'mode' ? fields.mode : fields.date) !== undefined);

/**
 * A partition path's value, as a read gives it: JSON of any kind, text, a number, a date or
 * time, or nothing (the read has no such path, or an object or a list is there).
 */
export type PathValue =
  | { kind: 'json' | 'text' | 'number' | 'date'; sql: string }
  | { kind: 'none' };

const NONE: PathValue = { kind: 'none' };

/**
 * A number as epoch seconds or, from 10^11 on (year 5138 in seconds, 1973 in milliseconds),
 * epoch milliseconds; out of range is no date.
 */
const epochDate = (n: string) =>
  `try(case when abs(${n}) >= 1e11 then epoch_ms((${n})::bigint) else make_timestamp(((${n}) * 1e6)::bigint) end)::date`;

/**
 * Text as a date: ISO 8601 (the date as written, whatever the offset), or the feed's format;
 * digits alone are epoch seconds or milliseconds, as a JSON reader that reads every scalar as
 * text cannot tell `1557933565` from `"1557933565"`.
 */
const textDate = (text: string, format: string | undefined) =>
  `coalesce(${format ? `try_strptime(${text}, ${quoteLiteral(format)})::date` : `try_cast(${text} as date)`}, case when regexp_full_match(${text}, '-?[0-9]+(\\.[0-9]+)?') then ${epochDate(`${text}::double`)} end)`;

const dateOf = (value: PathValue, format: string | undefined): string => {
  switch (value.kind) {
    case 'json':
      return `(case json_type(${value.sql}) when 'VARCHAR' then ${textDate(`json_extract_string(${value.sql}, '$')`, format)} when 'BIGINT' then ${epochDate(`${value.sql}::double`)} when 'UBIGINT' then ${epochDate(`${value.sql}::double`)} when 'DOUBLE' then ${epochDate(`${value.sql}::double`)} end)`;
    case 'text':
      return textDate(value.sql, format);
    case 'number':
      return epochDate(`${value.sql}::double`);
    case 'date':
      return `(${value.sql})::date`;
    default:
      return 'null::date';
  }
};

const modeOf = (value: PathValue): string => {
  switch (value.kind) {
    case 'json':
      return `(case when json_type(${value.sql}) not in ('OBJECT', 'ARRAY') then json_extract_string(${value.sql}, '$') end)`;
    case 'none':
      return 'null::varchar';
    default:
      return `(${value.sql})::varchar`;
  }
};

/**
 * The select items of a row's partition columns, from the paths `fields` names as `at` reaches
 * them; a missing or unreadable value goes to {@link HIVE_NULL}, as Hive's and DuckDB's do.
 *
 * @param prefix - put before each partition column's name
 */
export const partitionValues = (
  fields: PartitionFields,
  at: (keys: string[]) => PathValue,
  prefix = ''
): string[] => {
  const items: string[] = [];
  if (fields.date !== undefined) {
    const day = dateOf(at(fields.date.split('.')), fields.dateFormat);
    for (const [key, format] of [
      ['year', '%Y'],
      ['month', '%m'],
      ['day', '%d'],
    ]) {
      items.push(`coalesce(strftime(${day}, '${format}'), '${HIVE_NULL}') as ${prefix}${key}`);
    }
  }
  if (fields.mode !== undefined) {
    items.push(
      `coalesce(regexp_replace(${modeOf(at(fields.mode.split('.')))}, '[^A-Za-z0-9_-]', '_', 'g'), '${HIVE_NULL}') as ${prefix}mode`
    );
  }
  return items;
};

/** The value below a JSON value, at the keys left of a path. */
const inJson = (sql: string, rest: readonly string[]): PathValue => ({
  kind: 'json',
  sql: rest.length > 0 ? `json_extract(${sql}, ${quoteLiteral(jsonPath([...rest]))})` : sql,
});

/**
 * A path's value in records read with a {@link ReadShape} (objects as STRUCTs, scalars as text,
 * the rest as JSON).
 */
export const shapeValue =
  (shape: { [key: string]: ReadShape }) =>
  (keys: string[]): PathValue => {
    let node: ReadShape = shape;
    let sql = '';
    for (const [i, key] of keys.entries()) {
      if (typeof node === 'string') {
        return node === 'JSON' ? inJson(sql, keys.slice(i)) : NONE;
      }
      if (!Object.hasOwn(node, key)) return NONE;
      sql = i === 0 ? quoteKey(key) : `struct_extract(${sql}, ${quoteLiteral(key)})`;
      node = node[key] as ReadShape;
    }
    if (node === 'JSON') return { kind: 'json', sql };
    return node === 'VARCHAR' ? { kind: 'text', sql } : NONE;
  };

/** A path's value in records held whole as JSON in `record`. */
export const jsonRecordValue =
  (record: string) =>
  (keys: string[]): PathValue =>
    inJson(record, keys);

const NUMBER =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;

/** A path's value in records read with DuckDB types (`read` by top-level field). */
export const typedValue =
  (read: Readonly<Record<string, DuckType>>) =>
  (keys: string[]): PathValue => {
    const [top, ...rest] = keys;
    if (top === undefined || !Object.hasOwn(read, top)) return NONE;
    let type = read[top] as DuckType;
    let sql = quoteKey(top);
    for (const [i, key] of rest.entries()) {
      if (type.kind === 'scalar' && type.name === 'JSON') return inJson(sql, rest.slice(i));
      if (type.kind !== 'struct') return NONE;
      const field = type.fields.find(([name]) => name === key);
      if (!field) return NONE;
      sql = `struct_extract(${sql}, ${quoteLiteral(key)})`;
      type = field[1];
    }
    if (type.kind !== 'scalar') return NONE;
    if (type.name === 'JSON') return { kind: 'json', sql };
    if (NUMBER.test(type.name)) return { kind: 'number', sql };
    if (/^(DATE|TIMESTAMP)/.test(type.name)) return { kind: 'date', sql };
    return { kind: 'text', sql };
  };

/** A partition value DuckDB's hive folders name as it is (it escapes other characters). */
const PLAIN_VALUE = /^[A-Za-z0-9_-]+$/;

/**
 * Writes a query's rows as ZSTD Parquet under `dir`: in hive folders by `keys`, or, for a feed
 * with no partition, one file. Either way the files are named by the batch, so a retry
 * overwrites its own. Rows all in one partition (`partition`, its value by key, when the caller
 * knows it) go to that partition's folder as one file, as the partitioned write names it:
 * DuckDB's partitioned write buffers every row once more before its writer does, which for the
 * webhooks' 2,947 columns (3,505 rows, one partition) cost some 270 MB of RSS.
 *
 * @param options - more Parquet options, each after a comma
 */
export const copySilver = async (
  engine: DuckDbEngine,
  query: string,
  target: {
    dir: string;
    batchId: string;
    keys: readonly string[];
    partition?: Readonly<Record<string, string>>;
    options?: string;
  }
) => {
  const { dir, batchId, keys, partition, options = '' } = target;
  const pattern = FlattenLayout.silverFilePattern(batchId);
  const folders = keys.map((key) => `${key}=${partition?.[key]}`);
  const one = partition && keys.every((key) => PLAIN_VALUE.test(partition[key] ?? ''));
  if (keys.length > 0 && !one) {
    await engine.run(
      `copy (${query}) to ${quoteLiteral(dir)} (format parquet, compression zstd, partition_by (${keys.join(', ')}), filename_pattern ${quoteLiteral(pattern)}, overwrite_or_ignore${options})`
    );
    return;
  }
  const folder = join(dir, ...folders);
  await mkdir(folder, { recursive: true });
  const file = join(folder, `${pattern.replace('{i}', '0')}.parquet`);
  const rows = keys.length > 0 ? `select * exclude (${keys.join(', ')}) from (${query})` : query;
  await engine.run(
    `copy (${rows}) to ${quoteLiteral(file)} (format parquet, compression zstd${options})`
  );
};
