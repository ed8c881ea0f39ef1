import { describe, expect, it } from 'vitest';
import {
  collapseMaps,
  MAP_KEYS,
  mergeStructures,
  objectPaths,
  pathKeys,
  readJsonColumns,
  readShape,
} from './structure.js';

describe('Function: mergeStructures', () => {
  it.each([
    ['integers and doubles', 'UBIGINT', 'DOUBLE', 'DOUBLE'],
    ['signed and unsigned integers', 'UBIGINT', 'BIGINT', 'BIGINT'],
    ['a null and a string', 'NULL', 'VARCHAR', 'VARCHAR'],
    ['a number and a string', 'DOUBLE', 'VARCHAR', 'JSON'],
    ['an object and a string', { a: 'VARCHAR' }, 'VARCHAR', 'JSON'],
    ['two arrays', ['UBIGINT'], ['DOUBLE'], ['DOUBLE']],
  ])('merges %s', (_, a, b, merged) => {
    // Act + Assess
    expect(mergeStructures(a, b)).toEqual(merged);
  });

  it('unites object keys in first-seen order, merging the shared ones', () => {
    // Act
    const merged = mergeStructures(
      { a: 'UBIGINT', b: { c: 'NULL' } },
      { b: { c: 'VARCHAR', d: 'BOOLEAN' }, e: 'VARCHAR' }
    );

    // Assess
    expect(merged).toEqual({ a: 'UBIGINT', b: { c: 'VARCHAR', d: 'BOOLEAN' }, e: 'VARCHAR' });
    expect(Object.keys(merged)).toEqual(['a', 'b', 'e']);
  });
});

describe('Function: collapseMaps', () => {
  it('keeps objects of more than MAP_KEYS keys whole below the record, at any depth', () => {
    // Prepare
    const many = Object.fromEntries(
      Array.from({ length: MAP_KEYS + 1 }, (_, i) => [`k${i}`, 'BIGINT'])
    );
    const few = Object.fromEntries(Array.from({ length: MAP_KEYS }, (_, i) => [`k${i}`, 'BIGINT']));

    // Act
    const collapsed = collapseMaps({ id: 'BIGINT', a: { b: many }, list: [many], fields: few });

    // Assess
    expect(collapsed).toEqual({ id: 'BIGINT', a: { b: 'JSON' }, list: ['JSON'], fields: few });
    expect(collapseMaps(many)).toEqual(many);
  });
});

describe('Function: readJsonColumns', () => {
  it('reads objects as STRUCTs down to the depth, JSON columns as JSON and the rest as text', () => {
    // Act
    const columns = readJsonColumns(
      readShape(
        {
          id: 'UBIGINT',
          'odd "key"': { deep: { deeper: 'VARCHAR' } },
          tags: ['VARCHAR'],
          mixed: 'JSON',
          empty: {},
        },
        2,
        new Set(['$."odd \\"key\\""."deep"', '$."tags"', '$."mixed"', '$."empty"'])
      )
    );

    // Assess
    expect(columns).toBe(
      `{'id': 'VARCHAR', 'odd "key"': 'STRUCT("deep" JSON)', 'tags': 'JSON', 'mixed': 'JSON', 'empty': 'JSON'}`
    );
  });
});

describe('Function: objectPaths', () => {
  it('lists the root and every object above the depth', () => {
    // Act + Assess
    expect(objectPaths({ a: { b: { c: 'VARCHAR' } }, d: ['VARCHAR'] }, 2)).toEqual([[], ['a']]);
  });
});

describe('Function: pathKeys', () => {
  it('reads back keys with quotes, dots and backslashes', () => {
    // Act + Assess
    expect(pathKeys('$."a.b"."say \\"hi\\""."c\\\\d"')).toEqual(['a.b', 'say "hi"', 'c\\d']);
  });
});
