import { createHash } from 'node:crypto';
import { type FlatColumn, type FlattenOptions, flattenPlan, normalise } from './flattenPlan.js';
import {
  holdsUnreachableKey,
  isObject,
  type JsonStructure,
  jsonPath,
  pathKeys,
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

/** The longest dataset name a catalog takes: `[a-z][a-z0-9_]{0,62}`. */
const MAX_DATASET = 63;

/**
 * A child table's dataset: the parent's, `__`, and the array's keys below the parent joined
 * by `_` (`webhooks__pull_request_labels`, `webhooks__commits__files`). A name past 63
 * characters, or one a sibling took, keeps its first 54 and gets `_` and 8 hex digits of the
 * array's JSON path, so it stays stable across batches and apart from every other.
 */
export const childDataset = (
  parent: string,
  keys: readonly string[],
  path: string,
  taken: Set<string>
): string => {
  const base = `${parent}__${keys.map(normalise).join('_')}`;
  let name = base;
  // A map's entries and an array's elements at one path (values of both kinds) share the path:
  // the second hash is of the path and a count.
  for (let n = 0; name.length > MAX_DATASET || taken.has(name); n++) {
    const hash = createHash('sha256')
      .update(n === 0 ? path : `${path}#${n}`)
      .digest('hex')
      .slice(0, 8);
    name = `${base.slice(0, MAX_DATASET - 9)}_${hash}`;
  }
  taken.add(name);
  return name;
};

/** Whether a structure is an array whose elements are objects with fields. */
const holdsObjects = (node: JsonStructure | undefined) => {
  const element = Array.isArray(node) ? node[0] : undefined;
  return isObject(element) && Object.keys(element).length > 0;
};

/**
 * The arrays this batch's records write as child tables (dlt's relational unnesting, one
 * level): the configured `explode` paths where the records hold arrays, and every array of
 * objects the plan would otherwise keep as a JSON column. A path where the records hold no
 * array, or values of more than one kind, stays a JSON column of the parent.
 *
 * @param feed - the parent dataset
 * @param structure - the batch's records' structure
 * @param explode - the configured paths, as keys
 * @param columns - the columns the records flatten into: those holding arrays of objects
 *   (none: the feed keeps them as JSON, `child_tables: false`)
 */
export const explodedArrays = (
  feed: string,
  structure: JsonStructure,
  explode: readonly (readonly string[])[],
  columns: readonly FlatColumn[]
): ExplodedArray[] => {
  const configured = explode.filter((keys) => Array.isArray(structureAt(structure, keys)));
  const paths = new Set(configured.map((keys) => jsonPath(keys)));
  const objects = columns
    .filter((column) => column.type === 'JSON' && !paths.has(column.path))
    .map((column) => pathKeys(column.path))
    .filter((keys) => holdsObjects(structureAt(structure, keys)));
  const taken = new Set([feed]);
  return [...configured, ...objects].map((keys) => ({
    dataset: childDataset(feed, keys, `${jsonPath(keys)}[*]`, taken),
    path: jsonPath(keys),
  }));
};

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
