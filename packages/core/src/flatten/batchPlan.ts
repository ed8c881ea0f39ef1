import { type ExplodedArray, explodedArrays } from './childTables.js';
import { LINEAGE, PARTITION_KEYS } from './constants.js';
import { type FlatColumn, flattenPlan } from './flattenPlan.js';
import { isObject, type JsonStructure, pathKeys, readShape, withStructureAt } from './structure.js';
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
 * What records of `structure` are written as: the feed's exploded arrays, which become child
 * tables, and the record's columns, the registry's where it knows them.
 *
 * @param structure - the batch's records' keys and kinds
 * @param plan - the feed, its flatten options and its registry's columns
 */
export const planBatch = (
  structure: JsonStructure,
  plan: { feed: string; options: FlattenBatchOptions; registry: readonly FlatColumn[] }
): { arrays: ExplodedArray[]; columns: FlatColumn[] } => {
  const { feed, options, registry } = plan;
  const arrays = explodedArrays(feed, structure, options.explode ?? []);
  const exploded = new Set(arrays.map((array) => array.path));
  const columns = withRegistry(
    flattenPlan(structure, planOptionsOf(options)).filter((column) => !exploded.has(column.path)),
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
