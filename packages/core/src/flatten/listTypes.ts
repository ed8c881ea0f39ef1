import type { ListColumnType, ScalarColumnType } from '../ports/index.js';
import type { JsonStructure } from './structure.js';

/*
 * LIST columns: arrays whose innermost elements are scalars of one kind, at any depth
 * (`VARCHAR[]`, GeoJSON's `DOUBLE[][][]`). Integers and doubles mixed in one list are one
 * kind, DOUBLE, as in a scalar column: a list holding an integer a double cannot hold (past
 * 2^53) is no DOUBLE list, and is kept as written where misfits go.
 */

/** A LIST type's innermost scalar and how many lists deep it is. */
export interface ListShape {
  element: ScalarColumnType;
  depth: number;
}

/**
 * `json_structure`'s leaf types → the scalar a list of them is written as: integers of either
 * sign merge to HUGEINT (`[-90, 0]`), all of them BIGINT (one past it does not fit).
 */
const ELEMENT: Record<string, ScalarColumnType> = {
  UBIGINT: 'BIGINT',
  BIGINT: 'BIGINT',
  HUGEINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  VARCHAR: 'VARCHAR',
};

const SCALARS = new Set<string>(['BIGINT', 'DOUBLE', 'BOOLEAN', 'VARCHAR']);

/**
 * The element and depth of a LIST type (`DOUBLE[][]`: DOUBLE, 2); none for another type.
 *
 * @param type - a column type, or a list kind ({@link listKind})
 */
export const listShape = (type: string): ListShape | undefined => {
  const match = /^([A-Z]+)((?:\[\])+)$/.exec(type);
  if (!match || !SCALARS.has(match[1] ?? '')) return undefined;
  return { element: match[1] as ScalarColumnType, depth: (match[2] ?? '').length / 2 };
};

/** The LIST type of a shape. */
export const listType = ({ element, depth }: ListShape): ListColumnType =>
  `${element}${'[]'.repeat(depth)}` as ListColumnType;

/**
 * The LIST type an array of this structure is written as: its innermost elements of one
 * scalar kind, integers and doubles merged to DOUBLE as the structure merges them; none for an
 * array of objects, of mixed kinds or depths (`JSON` inside), or only ever empty.
 *
 * @example
 * ```ts
 * listTypeOf([[['DOUBLE']]]); // 'DOUBLE[][][]'
 * ```
 *
 * @param node - a structure
 */
export const listTypeOf = (node: JsonStructure): ListColumnType | undefined => {
  let depth = 0;
  let inner: JsonStructure | undefined = node;
  for (; Array.isArray(inner); depth++) inner = inner[0];
  const element = typeof inner === 'string' ? ELEMENT[inner] : undefined;
  return element && depth > 0 ? listType({ element, depth }) : undefined;
};

/** Whether a structure is an array holding values of several kinds or depths somewhere. */
export const holdsMixedList = (node: JsonStructure): boolean => {
  let inner: JsonStructure | undefined = node;
  if (!Array.isArray(inner)) return false;
  while (Array.isArray(inner)) inner = inner[0];
  return inner === 'JSON';
};

/**
 * `body` over a value computed once, in SQL: DuckDB has no `let`, and an expression that
 * names a JSON value ten times extracts and parses it ten times, each copy held at once (a
 * GeoJSON feature's MultiPolygon is megabytes). A lambda's argument is computed once.
 *
 * @param value - the value in SQL
 * @param name - the name `body` refers to it by (unique among nested bindings)
 * @param body - the expression over it
 */
export const bindOnce = (value: string, name: string, body: (bound: string) => string) =>
  `list_transform([${value}], ${name} -> ${body(name)})[1]`;

/**
 * A value's list kind in SQL: its LIST type when it is an array of one scalar kind at one
 * depth (`DOUBLE[][][]`, `BIGINT[]`; integers past BIGINT are `BIGINT`, and do not fit it),
 * else NULL (not an array, an array of objects, of mixed kinds or depths, or holding no scalar).
 * Read from `json_structure`, which merges integers with doubles and different depths to `JSON`.
 *
 * @param value - a JSON value in SQL
 */
export const listKind = (value: string) =>
  // An object's structure is as large as the object: only an array's is asked for.
  `(case when json_type(${value}) = 'ARRAY' then ${bindOnce(
    `json_structure(${value})::varchar`,
    '__strata_s',
    (structure) =>
      `(case when regexp_full_match(${structure}, '\\[+"(U?BIGINT|HUGEINT|DOUBLE|VARCHAR|BOOLEAN)"\\]+') then replace(regexp_replace(regexp_replace(${structure}, '"(U|HUGE)BIGINT"|"HUGEINT"', '"BIGINT"'), '^(\\[+)"([A-Z]+)".*$', '\\2\\1'), '[', '[]') end)`
  )} end)`;

/**
 * A value's kind in SQL, as `json_type` names it, but an array of one scalar kind at one depth
 * is its {@link listKind}: GeoJSON's Polygon (`DOUBLE[][][]`) and MultiPolygon
 * (`DOUBLE[][][][]`) at one path are values of two kinds, each with a column.
 *
 * @param value - a JSON value in SQL
 */
export const valueKind = (value: string) => `coalesce(${listKind(value)}, json_type(${value}))`;

/**
 * The {@link valueKind} of the value at a JSON path of a record, in SQL, extracting only
 * arrays: a copy of every object at the path (an API model's `shapes`, megabytes each) would
 * be held for the whole chunk of records.
 *
 * @param record - a JSON record in SQL
 * @param path - a JSON path into it, as an SQL string literal
 */
export const valueKindAt = (record: string, path: string) =>
  `(case when json_type(${record}, ${path}) = 'ARRAY' then coalesce(${listKind(`json_extract(${record}, ${path})`)}, 'ARRAY') else json_type(${record}, ${path}) end)`;

/**
 * Whether a DOUBLE column holds a number's JSON text as written: a finite number, and of
 * integers only those up to 2^53 (9223372036854775807 would read back as 9.223372036854776e18).
 * Texts of fewer than 16 characters hold no integer past 2^53: most values skip the regex.
 *
 * @param value - the number's JSON text in SQL
 */
export const fitsDouble = (value: string) =>
  `(isfinite(try_cast(${value} as double)) and (length(${value}) < 16 or not regexp_full_match(${value}, '-?[0-9]+') or abs(try_cast(${value} as hugeint)) <= ${2 ** 53}))`;

/** Whether a DOUBLE list holds a list's JSON value as written, in SQL ({@link doubleListValue}). */
const holdsDoubles = (shape: ListShape, list: string) => {
  const nested = (leaf: string, depth: number) =>
    `${'['.repeat(depth)}"${leaf}"${']'.repeat(depth)}`;
  const structures = [
    ...['UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE'].map((leaf) => nested(leaf, shape.depth)),
    ...Array.from({ length: shape.depth }, (_, n) => nested('NULL', n + 1)),
  ];
  // Only an integer of 16 digits or more, or an exponent of three, can be a number a double
  // does not hold as written: one pattern over the text spares the other lists the check
  // number by number.
  const suspect = `regexp_matches(${list}::varchar, '[\\[,\\s]-?[0-9]{16,}[\\],\\s]|[eE][+-]?[0-9]{3}')`;
  const numbers = `json_extract(${list}, '$${'[*]'.repeat(shape.depth)}')`;
  const exact = `(not ${suspect} or coalesce(list_bool_and(list_transform(${numbers}, __strata_n -> __strata_n::varchar = 'null' or ${fitsDouble('__strata_n::varchar')})), true))`;
  return `(json_structure(${list})::varchar in (${structures.map((s) => `'${s}'`).join(', ')}) and ${exact})`;
};

/**
 * Whether a DOUBLE list takes a value's JSON text as written, in SQL: what a misfit check
 * needs, without the list {@link doubleListValue} builds.
 *
 * @param shape - the list's depth (its element is DOUBLE)
 * @param value - the value's JSON text in SQL
 */
export const doubleListFits = (shape: ListShape, value: string) =>
  bindOnce(`${value}::json`, '__strata_l', (list) => holdsDoubles(shape, list));

/**
 * A DOUBLE list's value from its JSON text, or null where the text is no list of numbers at
 * the list's depth (a string `"5"` would cast to 5) or holds a number a double does not hold
 * as written ({@link fitsDouble}). The structure is checked with `json_structure`, empty and
 * null lists fitting any depth; the numbers one by one, from `$[*]…`, where the text holds one
 * that may not fit.
 *
 * @param shape - the list's depth (its element is DOUBLE)
 * @param value - the value's JSON text in SQL
 */
export const doubleListValue = (shape: ListShape, value: string) =>
  bindOnce(
    `${value}::json`,
    '__strata_l',
    (list) =>
      `(case when ${holdsDoubles(shape, list)} then try_cast(${list} as ${listType(shape)}) end)`
  );
