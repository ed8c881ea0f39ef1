import { type FlatColumn, type FlattenOptions, flattenPlan, normalise } from './flattenPlan.js';
import {
  holdsUnreachableKey,
  isObject,
  type JsonStructure,
  jsonPath,
  structureAt,
} from './structure.js';

/** An array of the feed's records that is written as a table of its own. */
export interface ExplodedArray {
  /** `<feed>__<path>`, e.g. `clickstream__payload_items`: names its silver prefix and schema. */
  dataset: string;
  /** Where the array sits in the parent record (JSONPath). */
  path: string;
}

/** An exploded array's table: one row per element. */
export interface ChildTable extends ExplodedArray {
  /** Elements are not objects (or hold a key no path reaches): each is `{"value": element}`. */
  wrap: boolean;
  /** The element's columns. */
  columns: FlatColumn[];
}

/** Columns every child row gets besides the element's own: the parent row, and the position. */
export const CHILD_LINEAGE = ['_variant', '_source_key', '_source_line', '_index', '_batch_id'];

/**
 * The configured `explode` paths where this batch's records hold arrays (dlt's relational
 * unnesting, one level). A configured path where the records hold no array, or values of more
 * than one kind, stays a JSON column of the parent.
 *
 * @param feed - the parent dataset
 * @param structure - the batch's records' structure
 * @param explode - the configured paths, as keys
 */
export const explodedArrays = (
  feed: string,
  structure: JsonStructure,
  explode: readonly (readonly string[])[]
): ExplodedArray[] =>
  explode
    .filter((keys) => Array.isArray(structureAt(structure, keys)))
    .map((keys) => ({
      dataset: `${feed}__${keys.map(normalise).join('_')}`.slice(0, 63),
      path: jsonPath(keys),
    }));

/**
 * The table an exploded array's elements flatten into: elements that are objects flatten into
 * columns as records do; other elements (or a mix) become one `value` column.
 *
 * @param array - the exploded array
 * @param element - the structure of every element, as discovered over all of them
 * @param options - how elements flatten, and the names partitions already use
 */
export const childTable = (
  array: ExplodedArray,
  element: JsonStructure,
  options: FlattenOptions
): ChildTable => {
  // An element holding a key no JSON path reaches is kept whole, as `value`.
  const wrap = !isObject(element) || holdsUnreachableKey(element);
  return {
    ...array,
    wrap,
    columns: flattenPlan(wrap ? { value: element } : element, {
      ...options,
      reserved: [...(options.reserved ?? []), ...CHILD_LINEAGE],
    }),
  };
};
