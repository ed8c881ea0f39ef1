import { quoteIdentifier, quoteLiteral } from '@strata/core/config';

/** A DuckDB type, or an object whose fields have shapes. */
type Shape = string | { readonly [field: string]: Shape };

/**
 * Every field the backlog generator (packages/local/src/backlog) can write, typed by hand as a
 * data engineer who knows the feed would: what the DuckDB baseline reads with `columns=`, and
 * what the JavaScript baselines write. `amount` drifts from integers to floats to "N/A", so it
 * is text; the arrays stay lists.
 */
export const EVENT_SHAPE = {
  event_id: 'VARCHAR',
  DATE: 'DATE',
  MODE: 'VARCHAR',
  timestamp: 'TIMESTAMP',
  user: {
    id: 'BIGINT',
    email: 'VARCHAR',
    address: { city: 'VARCHAR', geo: { lat: 'DOUBLE', lon: 'DOUBLE' } },
  },
  payload: { amount: 'VARCHAR', items: 'STRUCT(sku VARCHAR, qty BIGINT)[]' },
  device: { type: 'VARCHAR', os: { name: 'VARCHAR', version: 'VARCHAR' } },
  experiments: 'VARCHAR[]',
} as const satisfies Shape;

/** One leaf of a shape: the keys down to it and its type. */
export interface Leaf {
  path: string[];
  type: string;
}

const leavesOf = (shape: Shape, path: string[]): Leaf[] =>
  typeof shape === 'string'
    ? [{ path, type: shape }]
    : Object.entries(shape).flatMap(([key, child]) => leavesOf(child, [...path, key]));

/** The leaves of {@link EVENT_SHAPE}, in field order. */
export const EVENT_LEAVES: readonly Leaf[] = leavesOf(EVENT_SHAPE, []);

/** `a_b_c`, lower case: the name a flattened column gets. */
export const flatName = (path: readonly string[]): string => path.join('_').toLowerCase();

/** Leaf types whose values are JSON numbers or booleans, not strings. */
const JSON_SCALARS = new Set(['BIGINT', 'DOUBLE', 'BOOLEAN']);

/**
 * A leaf type as read: itself, or, to be cast without losing a value, text for strings (dates
 * too) and JSON for lists, numbers and booleans (as text, a string "5" would pass for a number).
 */
const readType = (type: string, asText: boolean): string =>
  !asText ? type : type.endsWith('[]') || JSON_SCALARS.has(type) ? 'JSON' : 'VARCHAR';

const duckType = (shape: Shape, asText: boolean): string =>
  typeof shape === 'string'
    ? readType(shape, asText)
    : `STRUCT(${Object.entries(shape)
        .map(([key, child]) => `${quoteIdentifier(key)} ${duckType(child, asText)}`)
        .join(', ')})`;

/**
 * `{'event_id': 'VARCHAR', 'user': 'STRUCT(...)', ...}` for read_json's `columns=`; `asText`
 * reads strings as text and the rest as JSON ({@link readType}), as a reader that must keep
 * misfits does.
 */
export const duckColumns = (asText = false): string =>
  `{${Object.entries(EVENT_SHAPE)
    .map(([key, shape]) => `${quoteLiteral(key)}: ${quoteLiteral(duckType(shape, asText))}`)
    .join(', ')}}`;

/** A leaf read as text or JSON that is cast to its type: not text, not a list. */
const castFromText = (type: string) => type !== 'VARCHAR' && !type.endsWith('[]');

/**
 * A leaf's value cast from how {@link duckColumns} read it: a number or boolean from its JSON
 * text (a string's keeps its quotes, and fits no number), an integer only as written.
 */
const castLeaf = (value: string, type: string) => {
  if (!JSON_SCALARS.has(type)) return `try_cast(${value} as ${type})`;
  const text = `${value}::varchar`;
  return type === 'BIGINT'
    ? `(case when try_cast(${text} as bigint)::varchar = ${text} then try_cast(${text} as bigint) end)`
    : `try_cast(${text} as ${type})`;
};

/**
 * Selects every leaf of relation `alias` as its flattened `a_b_c` column. `fromText`: the leaves
 * were read as text ({@link duckColumns}), and are cast to their types, every value that does
 * not fit kept in a `_variant` JSON list of `{column: value}`.
 */
export const duckFlatSelect = (alias: string, fromText = false): string => {
  const ref = (path: readonly string[]) => [alias, ...path].map(quoteIdentifier).join('.');
  const columns = EVENT_LEAVES.map(({ path, type }) => {
    const value = fromText && castFromText(type) ? castLeaf(ref(path), type) : ref(path);
    return `${value} as ${quoteIdentifier(flatName(path))}`;
  });
  if (!fromText) return columns.join(', ');
  const misfits = EVENT_LEAVES.filter(({ type }) => castFromText(type)).map(
    ({ path, type }) =>
      `case when ${ref(path)} is not null and ${castLeaf(ref(path), type)} is null then json_object(${quoteLiteral(flatName(path))}, ${ref(path)}) end`
  );
  return [
    ...columns,
    `nullif(to_json(list_filter([${misfits.join(', ')}], v -> v is not null)), '[]')::json as _variant`,
  ].join(', ');
};

/**
 * Flattens one parsed record into `a_b_c` keys, as the JavaScript baselines do: nested objects
 * become columns, arrays become JSON text (as Strata keeps them).
 *
 * @param record - a parsed JSON object
 */
export const flattenRecord = (
  record: Record<string, unknown>,
  out: Record<string, unknown> = {},
  prefix = ''
): Record<string, unknown> => {
  for (const key in record) {
    const value = record[key];
    const name = prefix ? `${prefix}_${key.toLowerCase()}` : key.toLowerCase();
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      flattenRecord(value as Record<string, unknown>, out, name);
    } else out[name] = Array.isArray(value) ? JSON.stringify(value) : value;
  }
  return out;
};

/**
 * Adds the path of every field `value` carries to `paths` (`user.address.city`), looking into
 * objects inside arrays (`payload.items.sku`): the truth the output's columns are checked against.
 *
 * @param value - a parsed record
 * @param paths - where the dotted paths are collected
 */
export const collectFieldPaths = (value: unknown, paths: Set<string>, prefix = ''): void => {
  if (Array.isArray(value)) {
    for (const item of value) collectFieldPaths(item, paths, prefix);
    return;
  }
  if (value === null || typeof value !== 'object') {
    if (prefix) paths.add(prefix);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child !== null && typeof child === 'object') collectFieldPaths(child, paths, path);
    else paths.add(path);
  }
};
