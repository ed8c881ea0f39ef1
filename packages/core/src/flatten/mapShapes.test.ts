import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  inferMapShaped,
  MAP_COLUMNS,
  MAP_RARE_KEYS,
  mapShapes,
  SPARSE_LIKENESS,
  SPARSE_MAP_KEYS,
} from './mapShapes.js';

/** Records each naming `per` entries of their own under `m`, beside a field every one holds. */
const named = (records: number, per: number) =>
  Array.from({ length: records }, (_, r) => ({
    id: r,
    m: {
      common: 'x',
      ...Object.fromEntries(Array.from({ length: per }, (_, k) => [`k${r}_${k}`, { n: k }])),
    },
  }));

/** Writes lines to a file of their own. */
const linesFile = async (lines: readonly string[]) => {
  const file = join(await mkdtemp(join(tmpdir(), 'map-shapes-')), 'a.jsonl');
  await writeFile(file, lines.join('\n'));
  return file;
};

describe('Function: mapShapes', () => {
  it('finds an object of many rare keys, and no map in records of optional fields', () => {
    // Prepare: MAP_RARE_KEYS names over the records, against one fewer, each in two of ten
    // instances that hold a fifth of them (too many to be few in each), and against optional
    // fields each in a third of the records
    const maps = named(MAP_RARE_KEYS / 2, 2);
    const dense = (keys: number) =>
      Array.from({ length: 10 }, (_, r) => ({
        m: Object.fromEntries(
          Array.from({ length: keys }, (_, k) => k)
            .filter((k) => k % 5 === r % 5)
            .map((k) => [`k${k}`, k])
        ),
      }));
    const optional = Array.from({ length: 300 }, (_, r) => ({
      id: r,
      o: Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`f${(k + r) % 90}`, k])),
    }));

    // Act, Assess
    expect(mapShapes(maps)).toBeDefined();
    expect(mapShapes(dense(MAP_RARE_KEYS))).toBeDefined();
    expect(mapShapes(dense(MAP_RARE_KEYS - 1))).toBeUndefined();
    expect(mapShapes(optional)).toBeUndefined();
    // The record's own keys are columns however many there are
    expect(
      mapShapes([Object.fromEntries(Array.from({ length: 2000 }, (_, k) => [`c${k}`, k]))])
    ).toBeUndefined();
  });
  it('finds an object keyed by codes, a few of its many keys in each instance', () => {
    // Prepare: world-countries' `currencies`, keyed by 162 ISO codes, one to three a record
    const codes = (distinct: number) =>
      Array.from({ length: 250 }, (_, r) => ({
        id: r,
        currencies: Object.fromEntries(
          Array.from({ length: 1 + (r % 3) }, (_, k) => [
            `C${(r + k * 7) % distinct}`,
            { name: 'n', symbol: 's' },
          ])
        ),
      }));

    // Act
    const found = mapShapes(codes(162));

    // Assess: keys, no fields; one key fewer than SPARSE_MAP_KEYS is no map
    expect(found?.object?.fields.get('currencies')?.object).toMatchObject({
      keyed: true,
      fields: new Map(),
    });
    expect(mapShapes(codes(SPARSE_MAP_KEYS))).toBeDefined();
    expect(mapShapes(codes(SPARSE_MAP_KEYS - 1))).toBeUndefined();
  });

  it('finds no map in sparse event payloads: a few fields each, of a record type’s dozens', () => {
    // Prepare: GitHub's `changes` (37 field names, about one in each event), and an object of
    // 150 optional fields whose instances hold more than a tenth of them
    const changes = Array.from({ length: 500 }, (_, r) => ({
      changes: { [`f${r % 37}`]: { from: 'x' } },
    }));
    const held = Math.ceil(150 / SPARSE_LIKENESS) + 1;
    const optional = Array.from({ length: 500 }, (_, r) => ({
      o: Object.fromEntries(Array.from({ length: held }, (_, k) => [`f${(r + k * 7) % 150}`, k])),
    }));

    // Act, Assess
    expect(mapShapes(changes)).toBeUndefined();
    expect(mapShapes(optional)).toBeUndefined();
  });
});

describe('Function: inferMapShaped', () => {
  it('types every line: the common key a field, the named ones entries of one merged value', async () => {
    // Prepare: the sample shows the map; a later line adds a kind to its values
    const records = named(MAP_RARE_KEYS, 2);
    const classes = mapShapes(records);
    const file = await linesFile([
      ...records.map((record) => JSON.stringify(record)),
      JSON.stringify({ id: 'x', m: { common: 'y', late: { n: 1, t: true } } }),
    ]);

    // Act
    const type = classes && (await inferMapShaped([file], classes));

    // Assess
    expect(type).toEqual({
      kind: 'struct',
      fields: [
        ['id', { kind: 'scalar', name: 'JSON' }],
        [
          'm',
          {
            kind: 'keyed',
            fields: [['common', { kind: 'scalar', name: 'VARCHAR' }]],
            value: {
              kind: 'struct',
              fields: [
                ['n', { kind: 'scalar', name: 'BIGINT' }],
                ['t', { kind: 'scalar', name: 'BOOLEAN' }],
              ],
            },
          },
        ],
      ],
    });
  });

  it('leaves a batch whose line holds a key twice, or no object, to the reader that tells', async () => {
    // Prepare
    const records = named(MAP_RARE_KEYS, 2);
    const classes = mapShapes(records);
    const lines = records.map((record) => JSON.stringify(record));
    const twice = await linesFile([...lines, '{"id": 1, "m": {"a": {"n": 1, "n": 2}}}']);
    const scalar = await linesFile([...lines, '[1]']);

    // Act, Assess
    expect(classes && (await inferMapShaped([twice], classes))).toBeUndefined();
    expect(classes && (await inferMapShaped([scalar], classes))).toBeUndefined();
  });

  it('keeps a batch within MAP_COLUMNS columns, its most map-like objects made maps', async () => {
    // Prepare: beside the map, 50 groups of 50 fields each in every record: 2,500 columns
    const group = Object.fromEntries(Array.from({ length: 50 }, (_, j) => [`f${j}`, j]));
    const records = named(MAP_RARE_KEYS, 2).map((record) => ({
      ...record,
      o: Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`g${k}`, group])),
    }));
    const classes = mapShapes(records);
    const file = await linesFile(records.map((record) => JSON.stringify(record)));

    // Act
    const type = classes && (await inferMapShaped([file], classes));

    // Assess: the groups are entries of one map, their fields one value's
    expect(50 * 50).toBeGreaterThan(MAP_COLUMNS);
    const o = type?.fields.find(([key]) => key === 'o')?.[1];
    expect(o).toMatchObject({ kind: 'keyed', fields: [], value: { kind: 'struct' } });
    expect(o?.kind === 'keyed' && o.value?.kind === 'struct' && o.value.fields.length).toBe(50);
  });
});
