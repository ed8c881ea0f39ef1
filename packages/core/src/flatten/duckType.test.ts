import { describe, expect, it } from 'vitest';
import { parseDuckType } from './duckType.js';

describe('Function: parseDuckType', () => {
  it('parses named STRUCT fields, quoted ones too, with lists and maps inside', () => {
    // Act
    const parsed = parseDuckType('STRUCT("*" STRUCT(a BIGINT[]), m MAP(VARCHAR, JSON))');

    // Assess
    expect(parsed).toEqual({
      kind: 'struct',
      fields: [
        [
          '*',
          {
            kind: 'struct',
            fields: [['a', { kind: 'list', element: { kind: 'scalar', name: 'BIGINT' } }]],
          },
        ],
        [
          'm',
          {
            kind: 'map',
            key: { kind: 'scalar', name: 'VARCHAR' },
            value: { kind: 'scalar', name: 'JSON' },
          },
        ],
      ],
    });
  });

  it('reads the unnamed fields DuckDB prints for an object holding an empty key as empty keys', () => {
    // Act: `{"": 1, "f": "x", "g": {"h": 1}, "l": [1]}` is printed with no field names
    const parsed = parseDuckType('STRUCT(o STRUCT(BIGINT, VARCHAR, STRUCT(h BIGINT), BIGINT[]))');

    // Assess
    expect(parsed).toEqual({
      kind: 'struct',
      fields: [
        [
          'o',
          {
            kind: 'struct',
            fields: [
              ['', { kind: 'scalar', name: 'BIGINT' }],
              ['', { kind: 'scalar', name: 'VARCHAR' }],
              ['', { kind: 'struct', fields: [['h', { kind: 'scalar', name: 'BIGINT' }]] }],
              ['', { kind: 'list', element: { kind: 'scalar', name: 'BIGINT' } }],
            ],
          },
        ],
      ],
    });
  });
});
