import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/index.js';
import {
  type FlatColumn,
  flattenPlan,
  flattenSelect,
  jsonAccess,
  splitByKind,
} from './flattenPlan.js';

const RECORDS = [
  '{"id":1,"userInfo":{"city":"Lima","geo":{"lat":1.5}},"items":[{"sku":"A"}],"amount":5}',
  '{"id":2,"userInfo":{"city":null,"geo":{"lat":2}},"items":[],"amount":"N/A","user_info":{"city":"dup"}}',
];

/** Loads the records, flattens them with the plan their merged structure gives, returns rows. */
const flatten = (
  maxDepth: number,
  plan?: FlatColumn[],
  strict?: ReadonlySet<string>,
  records: readonly string[] = RECORDS
) =>
  DuckDbEngine.use({}, async (engine) => {
    await engine.run(
      `create table r as select j::json as record from (values ${records.map((r) => `('${r}')`).join(', ')}) t(j)`
    );
    const [row] = await engine.all('select json_group_structure(record) as s from r');
    const columns = plan ?? flattenPlan(JSON.parse(String(row?.s)), { separator: '_', maxDepth });
    const rows = await engine.all(
      `select ${flattenSelect(columns, jsonAccess('record'), strict)} from r order by 1`
    );
    return { columns, rows };
  });

describe('Function: flattenPlan', () => {
  it('names nested fields a_b_c, keeps arrays and conflicting types as JSON, and dedupes names', async () => {
    // Act
    const { columns } = await flatten(4);

    // Assess
    expect(columns.map((column) => [column.name, column.type])).toEqual([
      ['id', 'BIGINT'],
      ['user_info_city', 'VARCHAR'],
      ['user_info_geo_lat', 'DOUBLE'],
      ['items', 'JSON'],
      ['amount', 'JSON'],
      ['user_info_city_2', 'VARCHAR'],
    ]);
  });

  it('keeps a subtree deeper than maxDepth as one JSON column', async () => {
    // Act
    const { columns, rows } = await flatten(1);

    // Assess
    expect(columns.map((column) => column.name)).toEqual([
      'id',
      'user_info',
      'items',
      'amount',
      'user_info_2',
    ]);
    expect(JSON.parse(String(rows[0]?.user_info))).toEqual({ city: 'Lima', geo: { lat: 1.5 } });
  });
});

describe('Function: flattenSelect', () => {
  it('keeps a value that does not fit its column in _variant instead of dropping it', async () => {
    // Prepare: a registry that says amount is a number, as earlier batches did
    const plan: FlatColumn[] = [
      { name: 'id', path: '$."id"', type: 'BIGINT' },
      { name: 'amount', path: '$."amount"', type: 'BIGINT' },
    ];

    // Act
    const { rows } = await flatten(4, plan);

    // Assess
    expect(rows.map((row) => [row.id, row.amount, row._variant])).toEqual([
      ['1', '5', null],
      ['2', null, '[{"amount":"N/A"}]'],
    ]);
  });

  it('fails on a value that does not fit a strict column, and parks none of it in _variant', async () => {
    // Prepare
    const plan: FlatColumn[] = [
      { name: 'id', path: '$."id"', type: 'BIGINT' },
      { name: 'amount', path: '$."amount"', type: 'BIGINT' },
    ];

    // Act
    const failure = await flatten(4, plan, new Set(['$."amount"'])).catch((error: Error) => error);
    const { rows } = await flatten(4, plan, new Set(['$."id"']));

    // Assess: "N/A" is no number; the strict id column's integers fit
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('a value of amount is no BIGINT');
    expect(rows.map((row) => [row.id, row._variant])).toEqual([
      ['1', null],
      ['2', '[{"amount":"N/A"}]'],
    ]);
  });
});

describe('Function: flattenPlan (arrays of scalars)', () => {
  it('types lists of lists of one scalar kind as nested LIST columns, integers and doubles as DOUBLE', async () => {
    // Prepare: GeoJSON's bbox and a Polygon's rings; an integer a double cannot hold, a string
    // among numbers and a ring one level too deep do not fit
    const records = [
      '{"n":1,"bbox":[-10,2.5,10,3],"rings":[[[1,2.5],[3,4]]],"ids":[[1],[2,3]]}',
      '{"n":2,"bbox":[1,9007199254740993],"rings":[[["5",1]]],"ids":[[]]}',
      '{"n":3,"bbox":[0.1],"rings":[[[[1,2]]]],"ids":[[-4],null]}',
    ];

    // Act
    const { columns, rows } = await flatten(3, undefined, undefined, records.slice(0, 1));
    const all = await flatten(3, columns, undefined, records);

    // Assess
    expect(columns.map((column) => [column.name, column.type])).toEqual([
      ['n', 'BIGINT'],
      ['bbox', 'DOUBLE[]'],
      ['rings', 'DOUBLE[][][]'],
      ['ids', 'BIGINT[][]'],
    ]);
    expect(rows.map((row) => [row.bbox, row.rings])).toEqual([
      [
        [-10, 2.5, 10, 3],
        [
          [
            [1, 2.5],
            [3, 4],
          ],
        ],
      ],
    ]);
    expect(all.rows.map((row) => [row.bbox, row.rings, row.ids, row._variant])).toEqual([
      [
        [-10, 2.5, 10, 3],
        [
          [
            [1, 2.5],
            [3, 4],
          ],
        ],
        [['1'], ['2', '3']],
        null,
      ],
      [null, null, [[]], '[{"bbox":[1,9007199254740993]},{"rings":[[["5",1]]]}]'],
      [[0.1], null, [['-4'], null], '[{"rings":[[[[1,2]]]]}]'],
    ]);
  });

  it('types an array of one kind as a LIST, keeping one that does not read back as written in _variant', async () => {
    // Prepare: `1.5`, `1e2` and an integer past BIGINT are no BIGINT as written, though a
    // BIGINT[] would take the first two
    const records = [
      '{"n":1,"ns":[1,2],"ss":["a",null]}',
      '{"n":2,"ns":[1.5],"ss":[]}',
      '{"n":3,"ns":[1e2]}',
      '{"n":4,"ns":[]}',
      '{"n":5,"ns":[9223372036854775808]}',
    ];

    // Act
    const { columns, rows } = await flatten(3, undefined, undefined, records);

    // Assess: integers and doubles make a DOUBLE list, but for the integer past 2^53
    expect(columns.map((column) => [column.name, column.type])).toEqual([
      ['n', 'BIGINT'],
      ['ns', 'DOUBLE[]'],
      ['ss', 'VARCHAR[]'],
    ]);
    expect(rows.map((row) => row.ss)).toEqual([['a', null], [], null, null, null]);
    expect(rows.map((row) => [row.ns, row._variant])).toEqual([
      [[1, 2], null],
      [[1.5], null],
      [[100], null],
      [[], null],
      [null, '[{"ns":[9223372036854775808]}]'],
    ]);
    const typed = await flatten(
      3,
      [
        { name: 'n', path: '$."n"', type: 'BIGINT' },
        { name: 'ns', path: '$."ns"', type: 'BIGINT[]' },
      ],
      undefined,
      records
    );
    expect(typed.rows.map((row) => [row.ns, row._variant])).toEqual([
      [['1', '2'], null],
      [null, '[{"ns":[1.5]}]'],
      [null, '[{"ns":[100.0]}]'],
      [[], null],
      [null, '[{"ns":[9223372036854775808]}]'],
    ]);
  });
});

describe('Function: splitByKind', () => {
  it('gives a path of two kinds a column per kind, and keeps a kind the sample missed in _variant', async () => {
    // Prepare: the sample saw text and integers at `at`, the batch a boolean too
    const records = [
      '{"id":1,"at":"2024-01-01T00:00:00Z"}',
      '{"id":2,"at":1704067200}',
      '{"id":3,"at":true}',
    ];
    const plan = splitByKind(
      [
        { name: 'id', path: '$."id"', type: 'BIGINT' },
        { name: 'at', path: '$."at"', type: 'JSON' },
      ],
      new Map([['$."at"', ['VARCHAR', 'UBIGINT']]]),
      [],
      '_'
    );

    // Act
    const { rows } = await flatten(3, plan, undefined, records);

    // Assess
    expect(plan).toEqual([
      { name: 'id', path: '$."id"', type: 'BIGINT' },
      { name: 'at', path: '$."at"', type: 'VARCHAR' },
      { name: 'at__v_bigint', path: '$."at"', type: 'BIGINT', variant: 'bigint' },
    ]);
    expect(rows.map((row) => [row.at, row.at__v_bigint, row._variant])).toEqual([
      ['2024-01-01T00:00:00Z', null, null],
      [null, '1704067200', null],
      [null, null, '[{"at":true}]'],
    ]);
  });
});
