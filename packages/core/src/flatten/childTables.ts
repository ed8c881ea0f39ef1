import { type FlatColumn, type FlattenOptions, flattenPlan, normalise } from './flattenPlan.js';
import { type JsonStructure, jsonPath, structureAt } from './structure.js';

/** An array of the feed's records written as a table of its own, one row per element. */
export interface ChildTable {
  /** `<feed>__<path>`, e.g. `clickstream__payload_items`: names its silver prefix and schema. */
  dataset: string;
  /** Where the array sits in the parent record (JSONPath). */
  path: string;
  /** Elements are not objects: each is flattened as `{"value": element}`. */
  wrap: boolean;
  /** The element's columns. */
  columns: FlatColumn[];
}

/** Columns every child row gets besides the element's own: the parent row, and the position. */
export const CHILD_LINEAGE = ['_variant', '_source_key', '_source_line', '_index', '_batch_id'];

const isObject = (node: JsonStructure | undefined): node is { [key: string]: JsonStructure } =>
  node !== undefined && node !== null && typeof node === 'object' && !Array.isArray(node);

/**
 * The child tables the configured `explode` paths give, for the arrays this batch's records hold
 * there (dlt's relational unnesting, one level): elements that are objects flatten into columns
 * as records do; other elements become one `value` column. A configured path where the records
 * hold no array, or values of more than one kind, stays a JSON column of the parent.
 *
 * @param feed - the parent dataset
 * @param structure - the batch's records' structure
 * @param explode - the configured paths, as keys
 * @param options - how elements flatten, and the names partitions already use
 */
export const childTables = (
  feed: string,
  structure: JsonStructure,
  explode: readonly (readonly string[])[],
  options: FlattenOptions
): ChildTable[] =>
  explode.flatMap((keys) => {
    const node = structureAt(structure, keys);
    if (!Array.isArray(node)) return [];
    const element = node[0] ?? 'NULL';
    const wrap = !isObject(element);
    return [
      {
        dataset: `${feed}__${keys.map(normalise).join('_')}`.slice(0, 63),
        path: jsonPath(keys),
        wrap,
        columns: flattenPlan(wrap ? { value: element } : element, {
          ...options,
          reserved: [...(options.reserved ?? []), ...CHILD_LINEAGE],
        }),
      },
    ];
  });
