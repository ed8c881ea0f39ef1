/**
 * The paths records hold, as a tree of their keys: a key's node, its array elements' node (all
 * elements one path), and whether a scalar was seen there. Walking it costs a map lookup a key
 * where a set of path strings cost building and hashing each leaf's path: 115 ms of each
 * webhooks batch (1,000 sampled records of some 2,000 leaves) for the typing report, a sixth of
 * that along the tree; a narrow batch's ~1,300 sampled lines 13 ms, the tree 1–2 ms.
 */
export interface PathNode {
  /** Where an object was seen, its keys' paths (none of them for `{}`). */
  keys?: Map<string, PathNode>;
  elements?: PathNode;
  leaf?: boolean;
}

/**
 * Walks `value` along `node`, adding the paths it holds, and calls `visit` at each scalar
 * with whether it is the first scalar of its path; stops once `visit` returns true.
 *
 * @example
 * ```ts
 * const root: PathNode = {};
 * let paths = 0;
 * walkPaths({ a: [1, 2], b: null }, root, (first) => first && ++paths > 100); // false
 * // paths === 1: `b`'s null is no scalar unless `nulls` says so
 * ```
 *
 * @param value - a parsed record, or a value in it
 * @param node - its path's node
 * @param visit - what to do at a scalar
 * @param nulls - whether a null is a scalar of its path (its kind unknown): the width of a
 *   sample counts it (a column is planned for it), the leaves of a record do not
 * @returns whether `visit` stopped the walk
 */
export const walkPaths = (
  value: unknown,
  node: PathNode,
  visit: (first: boolean) => boolean,
  nulls = false
): boolean => {
  if (value === null && !nulls) return false;
  if (value === null || typeof value !== 'object') {
    const first = !node.leaf;
    node.leaf = true;
    return visit(first);
  }
  if (Array.isArray(value)) {
    node.elements ??= {};
    for (const item of value) if (walkPaths(item, node.elements, visit, nulls)) return true;
    return false;
  }
  // Keys are data: a Map keeps `__proto__` as a key like any other.
  node.keys ??= new Map();
  for (const [key, child] of Object.entries(value)) {
    let below = node.keys.get(key);
    if (below === undefined) {
      below = {};
      node.keys.set(key, below);
    }
    if (walkPaths(child, below, visit, nulls)) return true;
  }
  return false;
};
