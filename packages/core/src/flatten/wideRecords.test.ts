import { describe, expect, it } from 'vitest';
import { holdsWideRecords, WIDE_LEAVES } from './wideRecords.js';

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
});
