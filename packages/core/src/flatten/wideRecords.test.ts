import { describe, expect, it } from 'vitest';
import { holdsWideRecords, outgrowsSampledPlan, WIDE_LEAVES } from './wideRecords.js';

/** A record of `paths` leaf paths: an id and a nested object of numbered fields. */
const record = (paths: number) => ({
  id: 1,
  a: { b: Object.fromEntries(Array.from({ length: paths - 1 }, (_, k) => [`f${k}`, k])) },
});

describe('Function: holdsWideRecords', () => {
  it('counts distinct leaf paths over the records, an array’s elements as one path', () => {
    // Prepare: half the paths in one record, the other half in another; an array of many
    // elements holds one path however long it is
    const half = WIDE_LEAVES / 2;
    const first = Object.fromEntries(Array.from({ length: half }, (_, k) => [`x${k}`, k]));
    const second = Object.fromEntries(Array.from({ length: half }, (_, k) => [`y${k}`, k]));
    const array = { list: Array.from({ length: 2 * WIDE_LEAVES }, (_, k) => ({ v: k })) };

    // Act, Assess
    expect(holdsWideRecords([record(WIDE_LEAVES)])).toBe(true);
    expect(holdsWideRecords([record(WIDE_LEAVES - 1), record(WIDE_LEAVES - 1)])).toBe(false);
    expect(holdsWideRecords([first, second])).toBe(true);
    expect(holdsWideRecords([first])).toBe(false);
    expect(holdsWideRecords([array])).toBe(false);
    expect(holdsWideRecords([])).toBe(false);
  });

  it('tells apart keys that read like paths, arrays and the prototype from the paths they mimic', () => {
    // Prepare: each pair is two leaf paths, not one
    const pairs = (n: number) => [
      { [`k${n}`]: { b: 1 }, [`k${n}.b`]: 1 },
      { [`l${n}`]: [1], [`l${n}[]`]: 1 },
      JSON.parse(`{"m${n}": {"__proto__": 1, "toString": 2}}`) as unknown,
    ];
    const records = Array.from({ length: WIDE_LEAVES / 2 }, (_, n) => pairs(n)).flat();

    // Act, Assess: 3 pairs of 2 paths a round, half as many rounds as the bound
    expect(holdsWideRecords(records.slice(0, 3 * 16))).toBe(false);
    expect(holdsWideRecords(records.slice(0, 3 * 17))).toBe(true);
  });
});

describe('Function: outgrowsSampledPlan', () => {
  it('finds arrays of objects inside the elements of arrays of objects, at any depth', () => {
    // Act, Assess: what the sampled plan keeps as JSON text...
    expect(outgrowsSampledPlan([{ orders: [{ lines: [{ sku: 'a' }] }] }])).toBe(true);
    expect(outgrowsSampledPlan([{ a: [{ b: { c: [{ d: 1 }] } }] }])).toBe(true);
    // ...and what it types itself
    expect(outgrowsSampledPlan([{ items: [{ sku: 'a', tags: ['x'] }] }, { items: [] }])).toBe(
      false
    );
    expect(outgrowsSampledPlan([{ a: { b: [{ c: 1 }] } }, { shape: [[{ x: 1 }]] }])).toBe(false);
  });

  it('finds a path through objects that holds objects in some records and scalars in others', () => {
    // Act, Assess: npm's author, in either order, at any depth...
    expect(outgrowsSampledPlan([{ author: 'Ann' }, { author: { name: 'Bo' } }])).toBe(true);
    expect(outgrowsSampledPlan([{ p: { author: { name: 'Bo' } } }, { p: { author: 5 } }])).toBe(
      true
    );
    // ...but not nulls or empty objects (kept as they are on both paths), arrays beside
    // scalars (not this rule's), or objects among an array's scalars (JSON text on both paths)
    expect(outgrowsSampledPlan([{ author: null }, { author: { name: 'Bo' } }])).toBe(false);
    expect(outgrowsSampledPlan([{ bin: 'cli.js' }, { bin: {} }])).toBe(false);
    expect(outgrowsSampledPlan([{ keywords: 'a' }, { keywords: ['a'] }])).toBe(false);
    expect(outgrowsSampledPlan([{ contributors: ['Cy', { name: 'Di' }] }])).toBe(false);
  });
});
