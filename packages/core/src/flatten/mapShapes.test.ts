import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inferMapShaped, MAP_COLUMNS, MAP_RARE_KEYS, mapShapes } from './mapShapes.js';

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
    // Prepare: MAP_RARE_KEYS names over the records, against optional fields each in a third
    // of the records
    const maps = named(MAP_RARE_KEYS / 2, 2);
    const fewer = named(MAP_RARE_KEYS / 2 - 1, 2);
    const optional = Array.from({ length: 300 }, (_, r) => ({
      id: r,
      o: Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`f${(k + r) % 90}`, k])),
    }));

    // Act, Assess
    expect(mapShapes(maps)).toBeDefined();
    expect(mapShapes(fewer)).toBeUndefined();
    expect(mapShapes(optional)).toBeUndefined();
    // The record's own keys are columns however many there are
    expect(
      mapShapes([Object.fromEntries(Array.from({ length: 2000 }, (_, k) => [`c${k}`, k]))])
    ).toBeUndefined();
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
