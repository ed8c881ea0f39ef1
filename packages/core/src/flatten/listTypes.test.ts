import { describe, expect, it } from 'vitest';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { doubleListValue, listKind, listTypeOf } from './listTypes.js';

/** Each JSON text's value of an SQL expression over it (`v`), as JSON. */
const evaluate = (texts: readonly string[], expression: (value: string) => string) =>
  DuckDbEngine.use({}, async (engine) => {
    const values = texts.map((text) => `(${quoteLiteral(text)})`).join(', ');
    const rows = await engine.all(
      `select to_json(${expression('v')})::varchar as out from (values ${values}) t(v)`
    );
    return rows.map((row) => (row.out === null ? null : JSON.parse(String(row.out))));
  });

describe('Function: listTypeOf', () => {
  it('types lists of one scalar kind at any depth, integers and doubles as DOUBLE', () => {
    // Act
    const types = [
      [['DOUBLE']],
      [[['HUGEINT']]],
      ['VARCHAR'],
      [['JSON']],
      ['NULL'],
      [{ a: 'BIGINT' }],
    ].map(listTypeOf);

    // Assess
    expect(types).toEqual([
      'DOUBLE[][]',
      'BIGINT[][][]',
      'VARCHAR[]',
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('Function: listKind', () => {
  it("names a value's list type from its structure, none where its kinds or depths mix", async () => {
    // Act
    const kinds = await evaluate(
      ['[-90, 0]', '[[1, 2.5], [3]]', '[[1, [2]]]', '["5", 1]', '[true]', '[]', '{"a": [1]}', '7'],
      (value) => listKind(`${value}::json`)
    );

    // Assess: integers of either sign are one kind
    expect(kinds).toEqual(['BIGINT[]', 'DOUBLE[][]', null, null, 'BOOLEAN[]', null, null, null]);
  });
});

describe('Function: doubleListValue', () => {
  it('takes lists of numbers at its depth a double holds as written, and nothing else', async () => {
    // Act
    const values = await evaluate(
      [
        '[[10, -2.5], [], null]',
        '[[1.5, 9007199254740993]]',
        '[[1e400]]',
        '[["5", 1]]',
        '[[1, [2]]]',
        '[1, 2]',
        '[]',
        '[[9007199254740992, null]]',
      ],
      (value) => doubleListValue({ element: 'DOUBLE', depth: 2 }, value)
    );

    // Assess: 2^53 + 1, a number past a double's range, a string and the wrong depth do not fit
    expect(values).toEqual([
      [[10, -2.5], [], null],
      null,
      null,
      null,
      null,
      null,
      [],
      [[9007199254740992, null]],
    ]);
  });
});
