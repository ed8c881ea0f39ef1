import { type PathNode, walkPaths } from './pathTree.js';

/** Leaf paths in a sample from which a batch counts as wide and is typed by inference. */
export const WIDE_LEAVES = 100;

/**
 * Whether records hold `WIDE_LEAVES` distinct leaf paths or more between them (an array's
 * elements as one path). FlattenBatch asks it of its sample to choose DuckDB's inference, and
 * PlanBacklog of the run's first records to plan smaller batches: counted in Node, a narrow
 * sample costs a millisecond.
 *
 * @example
 * holdsWideRecords([{ a: 1, b: { c: [1, 2] } }]); // false: two leaf paths
 *
 * @param records - parsed records
 */
export const holdsWideRecords = (records: Iterable<unknown>): boolean => {
  const root: PathNode = {};
  let paths = 0;
  // A path where only nulls were seen is a leaf path of the sample all the same.
  const wide = (first: boolean) => first && ++paths >= WIDE_LEAVES;
  for (const record of records) if (walkPaths(record, root, wide, true)) return true;
  return false;
};

/**
 * Whether records hold what the plan FlattenBatch makes from a narrow sample keeps as JSON text
 * and DuckDB's inference types: an array of objects inside an array's elements (a child
 * table's own child table; the sampled plan makes one level of them), or a path through
 * objects that holds objects in some records and scalars in others (npm's `author`: a string,
 * or `{name, email}`; the sampled plan keeps the objects whole in `author__v_json`, the
 * inference types them as `author_name`, `author_email`, `withMixedKinds`). FlattenBatch asks
 * it of a narrow sample to type such a batch by inference all the same.
 *
 * @example
 * outgrowsSampledPlan([{ orders: [{ lines: [{ sku: 'a' }] }] }]); // true
 * outgrowsSampledPlan([{ author: 'Ann' }, { author: { name: 'Bo' } }]); // true
 * outgrowsSampledPlan([{ items: [{ sku: 'a', tags: ['x'] }] }]); // false
 *
 * @param records - parsed records
 */
export const outgrowsSampledPlan = (records: Iterable<unknown>): boolean => {
  /** Whether `value`, below `elements` arrays of objects, holds an array of objects. */
  const outgrows = (value: unknown, elements: number): boolean => {
    if (Array.isArray(value)) {
      const holdsObjects = value.some(isPlainObject);
      if (holdsObjects && elements > 0) return true;
      return value.some((item) => outgrows(item, holdsObjects ? elements + 1 : elements));
    }
    return isPlainObject(value) && Object.values(value).some((child) => outgrows(child, elements));
  };
  const root: PathNode = {};
  for (const record of records) {
    if (outgrows(record, 0)) return true;
    walkPaths(record, root, () => false);
  }
  return mixesObjectsAndScalars(root);
};

/**
 * Whether a path reached through objects alone held both objects (of a key or more) and
 * scalars: the inference types the objects of such paths (`withMixedKinds`), not of paths
 * inside arrays.
 */
const mixesObjectsAndScalars = (node: PathNode): boolean => {
  for (const child of node.keys?.values() ?? []) {
    if (child.leaf && (child.keys?.size ?? 0) > 0) return true;
    if (mixesObjectsAndScalars(child)) return true;
  }
  return false;
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
