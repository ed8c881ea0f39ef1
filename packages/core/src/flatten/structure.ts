import { quoteLiteral } from '../config/index.js';

/**
 * The shape of JSON records as DuckDB's `json_group_structure` writes it: an object maps keys to
 * shapes, an array holds its elements' merged shape, a leaf is a type name (`UBIGINT`, `BIGINT`,
 * `DOUBLE`, `BOOLEAN`, `VARCHAR`, `NULL`, or `JSON` where values of different kinds met).
 */
export type JsonStructure = string | JsonStructure[] | { [key: string]: JsonStructure };

/** An object node (not a list, not a leaf type). */
export const isObject = (
  node: JsonStructure | undefined
): node is { [key: string]: JsonStructure } =>
  node !== null && typeof node === 'object' && !Array.isArray(node);

/** Leaf types in widening order: a merge keeps the wider of two numeric types. */
const NUMERIC = ['UBIGINT', 'BIGINT', 'DOUBLE'] as const;

const mergeLeaves = (a: string, b: string): string => {
  if (a === b || b === 'NULL') return a;
  if (a === 'NULL') return b;
  const ia = NUMERIC.indexOf(a as (typeof NUMERIC)[number]);
  const ib = NUMERIC.indexOf(b as (typeof NUMERIC)[number]);
  if (ia >= 0 && ib >= 0)
    return ia === 0 && ib === 0 ? 'UBIGINT' : (NUMERIC[Math.max(ia, ib, 1)] ?? 'DOUBLE');
  return 'JSON';
};

/**
 * Merges two structures the way `json_group_structure` merges records: keys are united in
 * first-seen order, integers widen to doubles, a field seen as null takes the other side's shape,
 * and anything else that disagrees (an object here, a string there) becomes `JSON`.
 *
 * @param a - the structure so far
 * @param b - the structure to add
 */
export const mergeStructures = (a: JsonStructure, b: JsonStructure): JsonStructure => {
  if (a === 'NULL') return b;
  if (b === 'NULL') return a;
  if (isObject(a) && isObject(b)) {
    // Keys are data: with no prototype, `__proto__` is a key like any other.
    const merged: { [key: string]: JsonStructure } = Object.assign(Object.create(null), a);
    for (const [key, child] of Object.entries(b)) {
      const seen = merged[key];
      merged[key] = seen === undefined ? child : mergeStructures(seen, child);
    }
    return merged;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const [ea, eb] = [a[0], b[0]];
    return [ea === undefined ? (eb ?? 'NULL') : eb === undefined ? ea : mergeStructures(ea, eb)];
  }
  if (typeof a === 'string' && typeof b === 'string') return mergeLeaves(a, b);
  return 'JSON';
};

/**
 * A JSONPath to the value under `keys`, e.g. `$."user"."address"`. Only quotes and backslashes
 * are escaped: DuckDB reads other characters as they are (a key's newline, written `\n`, would
 * not be found).
 */
export const jsonPath = (keys: readonly string[]): string =>
  keys.length === 0
    ? '$'
    : `$.${keys.map((key) => `"${key.replace(/["\\]/g, '\\$&')}"`).join('.')}`;

/** Text with its control characters written as JSON writes them inside a string. */
const escapeControls = (text: string) =>
  Array.from(text, (character) => {
    const code = character.charCodeAt(0);
    return code < 0x20 ? `\\u${code.toString(16).padStart(4, '0')}` : character;
  }).join('');

/**
 * The keys of a path {@link jsonPath} wrote, back as strings; also of a path written before it
 * kept control characters as they are (`JSON.stringify`'s `\n`), as older registries hold.
 */
export const pathKeys = (path: string): string[] =>
  [...path.matchAll(/"((?:[^"\\]|\\.)*)"/gs)].map((match) =>
    JSON.parse(`"${escapeControls(match[1] ?? '')}"`)
  );

/**
 * Whether DuckDB's JSON paths can reach a key: not an empty one, not `*` (a wildcard even when
 * quoted), not one holding a NUL (which ends its SQL string).
 */
export const isAddressable = (key: string) => key !== '' && key !== '*' && !key.includes('\0');

/** Whether an object holds a key no JSON path reaches: below the root, it is kept whole. */
export const holdsUnreachableKey = (node: JsonStructure) =>
  isObject(node) && !Object.keys(node).every(isAddressable);

/** Whether an object below the root is kept whole as JSON for a key no path can reach. */
const unreachable = (node: JsonStructure, keys: readonly string[]) =>
  keys.length > 0 && holdsUnreachableKey(node);

/**
 * The objects whose keys decide the columns: the root and every object above `maxDepth` (deeper
 * subtrees are kept whole as JSON, so new keys inside them lose nothing).
 *
 * @param structure - the records' structure
 * @param maxDepth - the flattening depth
 */
export const objectPaths = (structure: JsonStructure, maxDepth: number): string[][] => {
  const paths: string[][] = [];
  const walk = (node: JsonStructure, keys: string[]) => {
    if (!isObject(node) || keys.length >= maxDepth || unreachable(node, keys)) return;
    paths.push(keys);
    for (const [key, child] of Object.entries(node))
      if (isAddressable(key)) walk(child, [...keys, key]);
  };
  walk(structure, []);
  return paths;
};

/**
 * The values that become columns of their own: every non-object down to `maxDepth` (scalars,
 * arrays, fields of mixed kinds), not the objects kept whole below it.
 *
 * @param structure - the records' structure
 * @param maxDepth - the flattening depth
 */
export const leafPaths = (structure: JsonStructure, maxDepth: number): string[][] => {
  const paths: string[][] = [];
  const walk = (node: JsonStructure, keys: string[]) => {
    if (!isObject(node)) {
      if (keys.length > 0) paths.push(keys);
      return;
    }
    if (keys.length >= maxDepth || unreachable(node, keys)) return;
    for (const [key, child] of Object.entries(node))
      if (isAddressable(key)) walk(child, [...keys, key]);
  };
  walk(structure, []);
  return paths;
};

/**
 * The object's own value under a key that is data (`toString` is no key of `{}`).
 *
 * @param node - an object of a structure
 * @param key - a record's key
 */
export const childAt = (
  node: { [key: string]: JsonStructure },
  key: string
): JsonStructure | undefined => (Object.hasOwn(node, key) ? node[key] : undefined);

/** The structure at `keys`, or undefined where the structure has no object on the way. */
export const structureAt = (
  structure: JsonStructure,
  keys: readonly string[]
): JsonStructure | undefined => {
  let node: JsonStructure | undefined = structure;
  for (const key of keys)
    node = node !== undefined && isObject(node) ? childAt(node, key) : undefined;
  return node;
};

/**
 * More keys than one object of a feed's records plausibly has as fields: such an object's keys
 * are data (names, ids, versions: MDN's browser-compat data has 6,236 feature names under one
 * field), and a column per key would grow a batch's plan, reads and catalog with the data. Far above
 * DuckDB's own map inference (200), so fields of ordinary wide records stay columns.
 */
export const MAP_KEYS = 1000;

/**
 * `structure` with every object below the record that has more than {@link MAP_KEYS} keys kept
 * whole, as JSON text, so no map turns into a column per key however many keys it holds. The
 * record itself stays an object.
 *
 * @param structure - a records' structure
 * @param depth - how deep `structure` is in the record (0: the record)
 */
export const collapseMaps = (structure: JsonStructure, depth = 0): JsonStructure => {
  if (Array.isArray(structure)) return structure.map((element) => collapseMaps(element, depth + 1));
  if (!isObject(structure)) return structure;
  const keys = Object.keys(structure);
  if (depth > 0 && keys.length > MAP_KEYS) return 'JSON';
  const collapsed: { [key: string]: JsonStructure } = Object.create(null);
  for (const key of keys) collapsed[key] = collapseMaps(structure[key] as JsonStructure, depth + 1);
  return collapsed;
};

/** Returns `structure` with `child` merged in at `keys` (objects on the way are created). */
export const withStructureAt = (
  structure: JsonStructure,
  keys: readonly string[],
  child: JsonStructure
): JsonStructure => {
  const [head, ...rest] = keys;
  if (head === undefined) return mergeStructures(structure, child);
  const node = isObject(structure) ? structure : {};
  const seen = childAt(node, head);
  return {
    ...node,
    [head]:
      rest.length === 0 && seen === undefined ? child : withStructureAt(seen ?? {}, rest, child),
  };
};

/**
 * A record's key as a DuckDB identifier (a STRUCT field, a column `read_json` made of it):
 * quoted, its quotes doubled. A key is data, not config, so any text is kept as it is.
 */
export const quoteKey = (key: string) => `"${key.replaceAll('"', '""')}"`;

/** How `read_json` takes a value: an object field by field, anything else as text or JSON. */
export type ReadShape = 'VARCHAR' | 'JSON' | { [key: string]: ReadShape };

/**
 * How records of this structure are read without losing a value: objects down to `maxDepth`
 * field by field, every scalar column as text (so a value of an unexpected type is kept, to be
 * typed or parked in `_variant` later), and JSON columns (arrays, deeper subtrees, fields of
 * mixed kinds) as JSON text.
 *
 * @example
 * ```ts
 * readShape({ id: 'UBIGINT', user: { name: 'VARCHAR' }, tags: ['VARCHAR'] }, 3, new Set(['$."tags"']));
 * // { id: 'VARCHAR', user: { name: 'VARCHAR' }, tags: 'JSON' }
 * ```
 *
 * @param structure - the records' structure (an object)
 * @param maxDepth - the flattening depth
 * @param jsonPaths - the paths ({@link jsonPath}) read as JSON
 */
export const readShape = (
  structure: JsonStructure,
  maxDepth: number,
  jsonPaths: ReadonlySet<string>
): { [key: string]: ReadShape } => {
  const fields = (node: { [key: string]: JsonStructure }, keys: string[]) =>
    Object.fromEntries(
      Object.entries(node).map(([key, child]) => [key, shapeOf(child, [...keys, key])])
    );
  const shapeOf = (node: JsonStructure, keys: string[]): ReadShape =>
    isObject(node) &&
    keys.length < maxDepth &&
    Object.keys(node).length > 0 &&
    !unreachable(node, keys)
      ? fields(node, keys)
      : jsonPaths.has(jsonPath(keys))
        ? 'JSON'
        : 'VARCHAR';
  return isObject(structure) ? fields(structure, []) : {};
};

/**
 * The `columns` argument of `read_json` for a {@link readShape}: its objects as STRUCTs.
 *
 * @param shape - how each top-level field is read
 */
export const readJsonColumns = (shape: { [key: string]: ReadShape }): string => {
  const typeOf = (node: ReadShape): string =>
    typeof node === 'string'
      ? node
      : `STRUCT(${Object.entries(node)
          .map(([key, child]) => `${quoteKey(key)} ${typeOf(child)}`)
          .join(', ')})`;
  return `{${Object.entries(shape)
    .map(([key, child]) => `${quoteLiteral(key)}: ${quoteLiteral(typeOf(child))}`)
    .join(', ')}}`;
};
