import { describe, expect, it } from 'vitest';
import { changesInDuckDb, strictRejection, unusualOffsets } from './strictJson.js';

describe('Function: strictRejection', () => {
  it.each([
    ['{"a":1}', undefined],
    ['\f{"a":1}\v', undefined],
    ['\f42', 'not a JSON object'],
    ['[1]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    ['{"a":', 'not valid JSON'],
    ['{"a":NaN}', 'not valid JSON'],
    ['{"a":-Infinity}', 'not valid JSON'],
    ['{"a":1,}', 'not valid JSON'],
    ['{"a":[1,]}', 'not valid JSON'],
    ['{"a":1 /* c */}', 'not valid JSON'],
    ["{'a':1}", 'not valid JSON'],
    ['{"a":"NaN, Infinity,}"}', undefined],
    ['{"a":9223372036854775807}', undefined],
    ['{"a":0.30000000000000004}', undefined],
    ['{"a":1e400}', undefined],
    ['{"a":-0.0}', undefined],
    [
      '{"a":-0}',
      'a number DuckDB would change: more than 17 significant digits, below a double, or -0',
    ],
    [
      '{"a":1e-400}',
      'a number DuckDB would change: more than 17 significant digits, below a double, or -0',
    ],
    [
      '{"a":[1.000000000000000000001]}',
      'a number DuckDB would change: more than 17 significant digits, below a double, or -0',
    ],
    ['{"a":"\\ud800"}', 'a lone surrogate, which UTF-8 text cannot hold'],
    ['{"\\udc00":1}', 'a lone surrogate, which UTF-8 text cannot hold'],
    ['{"a":"\\ud83d\\ude00"}', undefined],
  ])('judges %j', (text, reason) => {
    // Act + Assess
    expect(strictRejection(text)).toBe(reason);
  });
});

describe('Function: changesInDuckDb', () => {
  it.each([
    ['0', false],
    ['-0', true],
    ['-0.0', false],
    ['123456789012345678901234567890', false],
    ['0.1', false],
    ['1E5', false],
    ['0.12345678901234567', false],
    ['0.123456789012345678', true],
    ['1.50000000000000000000', false],
    ['1e-400', true],
    ['1e400', false],
  ])('tells whether DuckDB would read %s as another number', (text, changes) => {
    // Act + Assess
    expect(changesInDuckDb(text)).toBe(changes);
  });
});

describe('Function: unusualOffsets', () => {
  it('finds what DuckDB reads less strictly, and numbers it could change, not plain records', () => {
    // Prepare
    const lines = [
      '{"id":1,"lat":48.85661234567891,"at":"2024-05-01T10:00:00-05:00","n":-0.5}',
      '{"a":NaN}',
      '{"a":[1, ]}',
      '{"a":-0}',
      '{"a":0.1234567890123456789}',
      '{"a":5e-324,"b":"type123"}',
      '{"a":1e-400}',
      '{"a":1234567890.12345678,"b":123456789.12345678}',
    ];
    const text = lines.join('\n');

    // Act
    const offsets = unusualOffsets(text);

    // Assess: the line each offset falls in
    const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
    expect([...new Set(offsets.map(lineOf))]).toEqual([2, 3, 4, 5, 7, 8]);
  });
});
