import { describe, expect, it } from 'vitest';
import { type PathNode, walkPaths } from './pathTree.js';

/** The leaf paths a walk over `records` found, as text, and the scalars it visited. */
const walk = (records: readonly unknown[], nulls?: boolean) => {
  const root: PathNode = {};
  let scalars = 0;
  for (const record of records)
    walkPaths(
      record,
      root,
      () => {
        scalars++;
        return false;
      },
      nulls
    );
  const paths: string[] = [];
  const collect = (node: PathNode, path: string) => {
    if (node.leaf) paths.push(path);
    for (const [key, child] of node.keys ?? []) collect(child, `${path}.${key}`);
    if (node.elements) collect(node.elements, `${path}[]`);
  };
  collect(root, '$');
  return { paths, scalars };
};

describe('Function: walkPaths', () => {
  it('counts a null as a scalar of its path only when asked to', () => {
    // Prepare
    const records = [
      { a: null, b: { c: [1, null] } },
      { a: null, d: {} },
    ];

    // Act
    const without = walk(records);
    const withNulls = walk(records, true);

    // Assess: `{}` is no leaf path either way, an array's elements are one path
    expect(without).toEqual({ paths: ['$.b.c[]'], scalars: 1 });
    expect(withNulls).toEqual({ paths: ['$.a', '$.b.c[]'], scalars: 4 });
  });

  it('stops where the visit says so, telling its caller', () => {
    // Prepare
    const root: PathNode = {};
    let seen = 0;

    // Act
    const stopped = walkPaths({ a: 1, b: 2, c: 3 }, root, () => ++seen === 2);

    // Assess
    expect(stopped).toBe(true);
    expect([...(root.keys?.keys() ?? [])]).toEqual(['a', 'b']);
  });
});
