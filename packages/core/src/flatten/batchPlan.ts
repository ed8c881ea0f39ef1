import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { type ExplodedArray, explodedArrays } from './childTables.js';
import { LINEAGE, maximumObjectSize, PARTITION_KEYS } from './constants.js';
import { distinctValues } from './distinctValues.js';
import { type FlatColumn, flattenPlan, splitByKind } from './flattenPlan.js';
import { holdsMixedList, valueKindAt } from './listTypes.js';
import {
  isObject,
  type JsonStructure,
  jsonPath,
  leafPaths,
  pathKeys,
  readShape,
  structureAt,
  withStructureAt,
} from './structure.js';
import type { FlattenBatchOptions } from './types.js';

/** How a batch's fields (and its exploded arrays' elements) plan into columns. */
export const planOptionsOf = (options: FlattenBatchOptions) => ({
  ...options,
  reserved: [...PARTITION_KEYS, ...LINEAGE],
});

/** Whether records have a top-level field DuckDB would take for `name` (its names ignore case). */
export const hasField = (structure: JsonStructure, name: string) =>
  isObject(structure) &&
  Object.keys(structure).some((key) => key.toLowerCase() === name.toLowerCase());

/** Whether two top-level fields differ only in case, which DuckDB's reader cannot both name. */
export const keysCollide = (structure: JsonStructure) => {
  const keys = isObject(structure) ? Object.keys(structure) : [];
  return new Set(keys.map((key) => key.toLowerCase())).size < keys.length;
};

/** The registry's columns as a structure (their types are leaf types too), to seed the batch's. */
export const structureOf = (columns: readonly FlatColumn[]): JsonStructure =>
  columns
    // Variant columns share their path's: the path's own column stands for it.
    .filter((column) => !column.variant)
    .reduce<JsonStructure>(
      (structure, column) => withStructureAt(structure, pathKeys(column.path), column.type),
      {}
    );

/**
 * The batch's columns: a column the registry knows keeps its registered name and type (values
 * that do not fit go to `_variant`), so a column never changes type under readers; new columns
 * take names the registry does not use.
 */
const withRegistry = (
  planned: readonly FlatColumn[],
  registry: readonly FlatColumn[],
  separator: string
): FlatColumn[] => {
  const byPath = new Map(
    registry.filter((column) => !column.variant).map((column) => [column.path, column])
  );
  const taken = new Set(registry.map((column) => column.name));
  return planned.map((column) => {
    const known = byPath.get(column.path);
    if (known) return known;
    let name = column.name;
    for (let n = 2; taken.has(name); n++) name = `${column.name}${separator}${n}`;
    taken.add(name);
    return { ...column, name };
  });
};

/**
 * The JSON paths of the leaves of mixed kinds that become columns: `JSON` in the structure, or
 * arrays holding it (lists of several depths at one path: GeoJSON's Polygons and
 * MultiPolygons).
 *
 * @param structure - records' keys and kinds
 * @param maxDepth - the flattening depth
 */
export const mixedPaths = (structure: JsonStructure, maxDepth: number): string[] =>
  leafPaths(structure, maxDepth)
    .filter((keys) => {
      const node = structureAt(structure, keys) ?? 'NULL';
      return node === 'JSON' || holdsMixedList(node);
    })
    .map(jsonPath);

/**
 * The kinds (`valueKind`: `json_type`'s, a list of one scalar kind its LIST type) the values at
 * `paths` take in a relation's JSON values: one query, for {@link splitByKind}.
 *
 * @param engine - the engine
 * @param values - a query whose column `json` holds the records (or elements)
 * @param paths - JSON paths into them
 */
export const kindsAt = async (
  engine: DuckDbEngine,
  values: string,
  paths: readonly string[]
): Promise<Map<string, string[]>> => {
  const kinds = await distinctValues(
    engine,
    `(${values})`,
    paths.map((path) => valueKindAt('json', quoteLiteral(path)))
  );
  return new Map(paths.map((path, n) => [path, kinds[n] ?? []]));
};

/**
 * The kinds the batch's sampled lines hold at the structure's paths of mixed kinds: a value of
 * a kind the sample missed is kept in `_variant` (`flattenSelect`).
 *
 * @param engine - the engine
 * @param batch - the sample (a JSON Lines file) and its longest line
 * @param structure - the batch's records' keys and kinds
 * @param maxDepth - the flattening depth
 */
export const sampledKinds = (
  engine: DuckDbEngine,
  batch: { sample: string; longest: number },
  structure: JsonStructure,
  maxDepth: number
) =>
  kindsAt(
    engine,
    `select json from read_ndjson_objects(${quoteLiteral(batch.sample)}, ignore_errors = true, ${maximumObjectSize(batch.longest)})`,
    mixedPaths(structure, maxDepth)
  );

/**
 * What records of `structure` are written as: the feed's exploded arrays, which become child
 * tables, and the record's columns, the registry's where it knows them; a path of mixed kinds
 * gets a column per kind ({@link splitByKind}).
 *
 * @param structure - the batch's records' keys and kinds
 * @param plan - the feed, its flatten options and its registry's columns
 * @param kinds - the kinds seen at the paths of mixed kinds ({@link sampledKinds})
 */
export const planBatch = (
  structure: JsonStructure,
  plan: { feed: string; options: FlattenBatchOptions; registry: readonly FlatColumn[] },
  kinds: ReadonlyMap<string, readonly string[]> = new Map()
): { arrays: ExplodedArray[]; columns: FlatColumn[] } => {
  const { feed, options, registry } = plan;
  // A registered column is never replaced by a child table: the registry's copy of its path
  // in the structure is no array.
  const planned = flattenPlan(structure, planOptionsOf(options));
  const arrays = explodedArrays(
    feed,
    structure,
    options.explode ?? [],
    options.childTables === false ? [] : planned
  );
  const exploded = new Set(arrays.map((array) => array.path));
  const columns = splitByKind(
    withRegistry(
      planned.filter((column) => !exploded.has(column.path)),
      registry,
      options.separator
    ),
    kinds,
    registry,
    options.separator
  );
  return { arrays, columns };
};

/**
 * How the fast path reads records planned as `columns` and `arrays`: JSON columns, typed columns
 * (whose values' kinds decide whether they fit) and exploded arrays as JSON, text columns as text.
 */
export const readShapeOf = (
  structure: JsonStructure,
  columns: readonly FlatColumn[],
  arrays: readonly ExplodedArray[],
  maxDepth: number
) =>
  readShape(
    structure,
    maxDepth,
    new Set([
      ...columns.filter((column) => column.type !== 'VARCHAR').map((column) => column.path),
      ...arrays.map((array) => array.path),
    ])
  );
