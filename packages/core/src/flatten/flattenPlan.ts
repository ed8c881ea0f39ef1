import { quoteIdentifier, quoteLiteral } from '../config/index.js';

/** One output column: where its value lives in the record and how it is typed. */
export interface FlatColumn {
  /** `a_b_c`: the path's keys, normalised, joined by the separator. */
  name: string;
  /** JSONPath into the record, e.g. `$."user"."address"."city"`. */
  path: string;
  /** BIGINT, DOUBLE, BOOLEAN, VARCHAR, or JSON (arrays, deep subtrees, conflicting types). */
  type: 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' | 'JSON';
}

export interface FlattenOptions {
  /** Joins nested keys into a column name (default `_`). */
  separator: string;
  /** Objects nested deeper than this stay one JSON column. */
  maxDepth: number;
}

/** DuckDB's json_structure type names → the column type Strata writes. */
const LEAF: Record<string, FlatColumn['type']> = {
  UBIGINT: 'BIGINT',
  BIGINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  VARCHAR: 'VARCHAR',
  // A field only ever seen as null: text is the type every later value fits.
  NULL: 'VARCHAR',
  JSON: 'JSON',
};

/** Lower snake case: letters, digits, underscores. */
const normalise = (key: string): string =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '') || 'field';

/**
 * The columns a merged JSON structure (DuckDB's `json_group_structure`) flattens into.
 *
 * Nested objects become `a_b_c` columns down to `maxDepth`; arrays, deeper subtrees and fields
 * whose types conflict across records stay JSON, so no value is dropped or coerced to null.
 * Names that collide after normalising get a numeric suffix in path order.
 *
 * @param structure - the merged structure, parsed
 * @param options - separator and depth
 */
export const flattenPlan = (structure: unknown, options: FlattenOptions): FlatColumn[] => {
  const columns: FlatColumn[] = [];
  const walk = (node: unknown, keys: string[]) => {
    const depth = keys.length;
    const path = `$.${keys.map((key) => JSON.stringify(key)).join('.')}`;
    const name = keys.map(normalise).join(options.separator);
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      if (depth >= options.maxDepth) {
        columns.push({ name, path, type: 'JSON' });
        return;
      }
      for (const [key, child] of Object.entries(node)) walk(child, [...keys, key]);
      return;
    }
    const type = typeof node === 'string' ? LEAF[node] : undefined;
    columns.push({ name, path, type: Array.isArray(node) || !type ? 'JSON' : type });
  };
  if (structure !== null && typeof structure === 'object' && !Array.isArray(structure)) {
    for (const [key, child] of Object.entries(structure)) walk(child, [key]);
  }
  const seen = new Map<string, number>();
  return columns.map((column) => {
    const count = (seen.get(column.name) ?? 0) + 1;
    seen.set(column.name, count);
    return count === 1 ? column : { ...column, name: `${column.name}${options.separator}${count}` };
  });
};

/**
 * The select list that flattens `record`: each column typed with `try_cast`, plus `_variant`,
 * a JSON object of every value that did not fit its column's type (kept, never nulled).
 *
 * @param columns - the plan
 * @param record - the JSON column to read
 */
export const flattenSelect = (columns: readonly FlatColumn[], record: string): string => {
  const raw = (column: FlatColumn) => `json_extract(${record}, ${quoteLiteral(column.path)})`;
  const text = (column: FlatColumn) =>
    `json_extract_string(${record}, ${quoteLiteral(column.path)})`;
  const typed = columns.map((column) =>
    column.type === 'JSON'
      ? `${raw(column)} as ${quoteIdentifier(column.name)}`
      : `try_cast(${text(column)} as ${column.type}) as ${quoteIdentifier(column.name)}`
  );
  const misfits = columns
    .filter((column) => column.type !== 'JSON' && column.type !== 'VARCHAR')
    .map(
      (column) =>
        `case when ${raw(column)} is not null and json_type(${raw(column)}) <> 'NULL' and try_cast(${text(column)} as ${column.type}) is null then json_object(${quoteLiteral(column.name)}, ${raw(column)}) end`
    );
  const variant = misfits.length
    ? `nullif(to_json(list_filter([${misfits.join(', ')}], x -> x is not null)), '[]') as _variant`
    : 'null::json as _variant';
  return [...typed, variant].join(',\n  ');
};
