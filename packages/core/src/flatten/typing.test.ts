import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { feedSchema, quoteLiteral } from '../config/index.js';
import { DuckDbEngine, Workspace } from '../engine/index.js';
import type { FlatColumn } from './flattenPlan.js';
import { flattenOptionsOf, runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions, LocalObject, RecordShape } from './types.js';
import {
  datasetLeaves,
  SHAPE_KEY_CHARS,
  TEXT_ROWS,
  TEXT_SAMPLE,
  typingReport,
  WIDEST_SHAPES,
  widestShapes,
} from './typing.js';

let lake: LocalLake;

const OPTIONS: FlattenBatchOptions = {
  separator: '_',
  maxDepth: 2,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: true,
};

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

/** Non-null scalars of a JSON value: the leaves the counts must find again. */
const leaves = (value: unknown): number => {
  if (value === null) return 0;
  if (Array.isArray(value)) return value.reduce<number>((n, item) => n + leaves(item), 0);
  if (typeof value === 'object') {
    return Object.values(value as object).reduce<number>((n, item) => n + leaves(item), 0);
  }
  return 1;
};

/** Records with deep objects, arrays of scalars and of objects, and a field of two kinds. */
const RECORDS = Array.from({ length: 40 }, (_, i) => ({
  DATE: `2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
  MODE: i % 2 ? 'web' : 'app',
  id: i,
  empty: '',
  gone: null,
  user: { name: `u${i}`, address: { geo: { lat: i / 3, tags: ['a', null, 'b'] } } },
  items: i % 5 ? [{ sku: `s${i}`, qty: i }, { sku: 'x' }] : [],
  at: i % 3 ? `2024-01-0${(i % 9) + 1}T00:00:00Z` : 1_700_000_000 + i,
  ...(i === 7 ? { late: { a: 1, b: [true, false] } } : {}),
}));

const flatten = (
  feed: string,
  records: readonly unknown[],
  options: Partial<FlattenBatchOptions>,
  registry?: FlatColumn[]
) =>
  DuckDbEngine.use({}, async (engine) => {
    const key = `raw/${feed}/a.jsonl`;
    await lake.store.put(key, records.map((r) => JSON.stringify(r)).join('\n'));
    const registryKey = registry ? `_schemas/${feed}/registry-copy.json` : undefined;
    if (registryKey) await lake.store.put(registryKey, JSON.stringify({ columns: registry }));
    return runFlattenBatch(
      {
        feed,
        batchId: `${feed}-1`,
        objects: [{ key, size: 1 }],
        ...(registryKey ? { registryKey } : {}),
      },
      { store: lake.store, engine, ledger: lake.ledger, options: { ...OPTIONS, ...options } }
    );
  });

const total = (counts: { typed: number; child: number; json: number; variant: number }) =>
  counts.typed + counts.child + counts.json + counts.variant;

describe('Function: batchTyping (through runFlattenBatch)', () => {
  it('finds every leaf of the input once when the batch is typed from the inference', async () => {
    // Act
    const result = await flatten('typing_inferred', RECORDS, { infer: 'always' });

    // Assess
    const counts = result.typing?.leaves;
    expect(counts && total(counts)).toBe(leaves(RECORDS));
    expect(counts?.child).toBe(RECORDS.reduce((n, r) => n + leaves(r.items), 0));
    expect(counts?.json).toBe(0);
    expect(counts?.variant).toBe(0);
    expect(result.typing?.estimated).toBeUndefined();
  });

  it('finds every leaf once in JSON text and _variant when the batch is planned from its sample', async () => {
    // Prepare: `id` registered as BIGINT, and one record holding a decimal there
    const records = [...RECORDS, { ...(RECORDS[0] as (typeof RECORDS)[number]), id: 1.5 }];
    const registry: FlatColumn[] = [{ name: 'id', path: '$."id"', type: 'BIGINT' }];

    // Act
    const result = await flatten('typing_sampled', records, { infer: 'never' }, registry);

    // Assess: objects past max_depth 2 are JSON text, the array of objects a child table, the
    // array of booleans a LIST column, the field of two kinds a column per kind; the decimal
    // id is in _variant
    const counts = result.typing?.leaves;
    expect(counts && total(counts)).toBe(leaves(records));
    expect(counts?.variant).toBe(1);
    expect(counts?.json).toBe(leaves(records.map((r) => r.user.address)));
    expect(counts?.child).toBe(leaves(records.map((r) => r.items)));
  });

  it("types a narrow feed's arrays and fields of two kinds by default (emojibase: 98% or more)", async () => {
    // Prepare: 40 records of emojibase-data (test/fixtures/emojibase): 23 leaf paths, tags
    // arrays of strings, skins arrays of objects, emoticon and skins' tone of two kinds
    const records = JSON.parse(
      await readFile(
        new URL('../../../../test/fixtures/emojibase/data.json', import.meta.url),
        'utf8'
      )
    ) as { emoticon?: string | string[]; skins?: { tone: number | number[] }[] }[];
    const schema = async (key: string) =>
      (JSON.parse(new TextDecoder().decode(await lake.store.get(key))) as { columns: FlatColumn[] })
        .columns;

    // Act
    const result = await flatten('emojibase', records, { maxDepth: 3, partition: {} });

    // Assess: the lists among emoticons and tones are in LIST variant columns (all 1,949
    // records: 98.4% of the leaves typed when they were JSON text)
    const counts = result.typing?.leaves;
    expect(counts && total(counts)).toBe(leaves(records));
    expect(counts?.json).toBe(0);
    expect(counts?.variant).toBe(0);
    expect(result.rowsWritten + result.recordsQuarantined).toBe(records.length);
    expect(result.recordsQuarantined).toBe(0);
    const columns = await schema(result.schemaKey);
    expect(
      columns.filter((c) => ['tags', 'emoticon', 'skins'].includes(c.path.slice(3, -1)))
    ).toEqual([
      { name: 'tags', path: '$."tags"', type: 'VARCHAR[]' },
      { name: 'emoticon', path: '$."emoticon"', type: 'VARCHAR' },
      { name: 'emoticon__v_list1', path: '$."emoticon"', type: 'VARCHAR[]', variant: 'list1' },
    ]);
    const skins = records.reduce((n, r) => n + (r.skins?.length ?? 0), 0);
    expect(result.children.map((c) => [c.dataset, c.rowsWritten])).toEqual([
      ['emojibase__skins', skins],
    ]);
    const tone = (await schema(result.children[0]?.schemaKey ?? '')).filter(
      (c) => c.path === '$."tone"'
    );
    expect(tone.map((c) => [c.name, c.type])).toEqual([
      ['tone', 'BIGINT'],
      ['tone__v_list1', 'BIGINT[]'],
    ]);
  });

  it.each(['never', 'always'] as const)(
    'keeps arrays of objects as JSON text with child_tables: false (infer: %s)',
    async (infer) => {
      // Prepare
      const records = JSON.parse(
        await readFile(
          new URL('../../../../test/fixtures/emojibase/data.json', import.meta.url),
          'utf8'
        )
      ) as unknown[];
      const options = flattenOptionsOf(
        feedSchema.parse({ child_tables: false, infer, max_depth: 3 })
      );

      // Act
      const result = await flatten(`emojibase_${infer}`, records, options);

      // Assess
      const { columns } = JSON.parse(
        new TextDecoder().decode(await lake.store.get(result.schemaKey))
      ) as { columns: FlatColumn[] };
      expect(result.children).toEqual([]);
      expect(columns.find((column) => column.path === '$."skins"')?.type).toBe('JSON');
      expect(columns.find((column) => column.path === '$."tags"')?.type).toBe('VARCHAR[]');
    }
  );

  it("flattens a narrow feed's objects at any depth when the feed sets no max_depth", async () => {
    // Prepare: a narrow record whose deepest objects are four and six levels down (the
    // backlog's user.address.geo stayed one JSON column at the default depth of 3)
    const records = Array.from({ length: 20 }, (_, i) => ({
      id: i,
      user: { address: { geo: { lat: 52.5 + i, lon: 13.4 } } },
      a: { b: { c: { d: { e: { f: `deep-${i}` } } } } },
    }));

    // Act
    const result = await flatten('deep', records, flattenOptionsOf(feedSchema.parse({})));

    // Assess: every leaf typed, none in JSON text
    const { columns } = JSON.parse(
      new TextDecoder().decode(await lake.store.get(result.schemaKey))
    ) as { columns: FlatColumn[] };
    expect(columns).toContainEqual(
      expect.objectContaining({ name: 'user_address_geo_lat', type: 'DOUBLE' })
    );
    expect(columns).toContainEqual(
      expect.objectContaining({ name: 'a_b_c_d_e_f', path: '$."a"."b"."c"."d"."e"."f"' })
    );
    expect(result.typing?.leaves).toMatchObject({ typed: 4 * 20, json: 0 });
  });

  it('keeps an object a registry holds as one JSON column whole, as the feed flattened it before', async () => {
    // Prepare: the feed's registry from when narrow batches stopped at depth 3
    const registry: FlatColumn[] = [
      { name: 'id', path: '$."id"', type: 'BIGINT' },
      { name: 'user_address_geo', path: '$."user"."address"."geo"', type: 'JSON' },
    ];
    const records = [{ id: 1, user: { address: { geo: { lat: 52.5, lon: 13.4 } } } }];

    // Act
    const result = await flatten(
      'registered_deep',
      records,
      flattenOptionsOf(feedSchema.parse({})),
      registry
    );

    // Assess
    const { columns } = JSON.parse(
      new TextDecoder().decode(await lake.store.get(result.schemaKey))
    ) as { columns: FlatColumn[] };
    expect(columns.map((column) => [column.name, column.type])).toEqual([
      ['id', 'BIGINT'],
      ['user_address_geo', 'JSON'],
    ]);
  });

  it("types the arrays of objects inside a narrow feed's child rows as child tables of their own", async () => {
    // Prepare: orders whose lines are arrays of objects: the sampled plan kept each order's
    // lines as JSON text in the orders child table (one level of child tables)
    const records = Array.from({ length: 20 }, (_, i) => ({
      id: i,
      orders: [{ no: i, lines: [{ sku: `s${i}`, qty: 1 }] }],
    }));

    // Act
    const result = await flatten('nested_narrow', records, flattenOptionsOf(feedSchema.parse({})));

    // Assess: every leaf typed, the lines in a child table of the orders'
    expect(result.typing?.leaves).toMatchObject({ typed: 20, child: 60, json: 0, variant: 0 });
    expect(result.children.map((child) => child.dataset)).toEqual([
      'nested_narrow__orders',
      'nested_narrow__orders__lines',
    ]);
  });

  it('extrapolates the leaves in JSON text past the values it counts, and says so', async () => {
    // Prepare: more records than the values counted, each with three leaves in JSON text
    const records = Array.from({ length: TEXT_SAMPLE + 500 }, (_, i) => ({
      DATE: '2024-01-01',
      MODE: 'web',
      id: i,
      tags: ['a', i, true],
    }));

    // Act
    const result = await flatten('typing_estimated', records, { infer: 'never' });

    // Assess
    expect(result.typing).toMatchObject({
      leaves: { typed: records.length * 3, child: 0, json: records.length * 3, variant: 0 },
      estimated: true,
    });
  });

  it('counts the leaves of JSON text by their tokens, whatever the strings hold', async () => {
    // Prepare: strings that look like keys, numbers, booleans, nulls and escapes
    const records = Array.from({ length: 30 }, (_, i) => ({
      DATE: '2024-01-01',
      MODE: 'web',
      id: i,
      text: {
        'a": 1, "b': 'x": 2, true, null, -1e-5 \\',
        quote: 'say "hi": 3',
        numbers: [-1.5e10, 0, 12, 3.25e-7, i],
        flags: [true, false, null, 'true', 'null'],
        nested: { deeper: { k: '{"no": "object"}', n: null, u: '\u00e9\u{1F600}:' } },
      },
    }));

    // Act
    const result = await flatten('typing_tokens', records, { infer: 'never', maxDepth: 1 });

    // Assess
    const counts = result.typing?.leaves;
    expect(counts?.json).toBe(leaves(records.map((r) => r.text)));
    expect(counts && total(counts)).toBe(leaves(records));
  });

  it('counts wide and deep JSON text in little memory', async () => {
    // Prepare: 50 values of 30 keys, each over four levels of objects, as one JSON column
    const level = (depth: number): unknown =>
      depth === 0
        ? 'v'
        : Object.fromEntries(
            Array.from({ length: 6 }, (_, k) => [`k${k}`, k < 3 ? `leaf ${k}` : level(depth - 1)])
          );
    const values = Array.from({ length: 50 }, (_, i) =>
      Object.fromEntries(Array.from({ length: 30 }, (_, j) => [`name${i}_${j}`, level(3)]))
    );
    const counted = await Workspace.use('typing-test', (ws) =>
      DuckDbEngine.use({ threads: 1 }, async (engine) => {
        const lines = ws.path('values.jsonl');
        await writeFile(lines, values.map((v) => JSON.stringify({ v })).join('\n'));
        const file = ws.path('values.parquet');
        await engine.run(
          `copy (select json->'v' as v from read_ndjson_objects(${quoteLiteral(lines)})) to ${quoteLiteral(file)}`
        );
        // json_tree's row per node carries the node's subtree: 64 MB did not hold these.
        await engine.run("set memory_limit = '64MB'");

        // Act
        return datasetLeaves(engine, [file], [{ name: 'v', path: '$."v"', type: 'JSON' }]);
      })
    );

    // Assess
    expect(counted).toEqual({ typed: 0, json: leaves(values), variant: 0, estimated: false });
  });

  it('counts the text columns of one read, and a column whose values come later on its own', async () => {
    // Prepare: a dense JSON column, and one whose only values lie past the rows read at once
    const rows = TEXT_ROWS + 100;
    const counted = await Workspace.use('typing-test', (ws) =>
      DuckDbEngine.use({ threads: 1 }, async (engine) => {
        const file = ws.path('text.parquet');
        await engine.run(
          `copy (select '[1, "two"]'::json as dense, case when i >= ${rows - 50} then '{"x": [true, null, "s"]}'::json end as late from range(${rows}) t(i)) to ${quoteLiteral(file)}`
        );

        // Act
        return datasetLeaves(
          engine,
          [file],
          [
            { name: 'dense', path: '$."dense"', type: 'JSON' },
            { name: 'late', path: '$."late"', type: 'JSON' },
          ]
        );
      })
    );

    // Assess: two leaves in each dense value (extrapolated past the sample), two in each late one
    expect(counted).toEqual({ typed: 0, json: 2 * rows + 2 * 50, variant: 0, estimated: true });
  });

  it("counts a column named key as leaves, and a MAP's keys as none", async () => {
    // Prepare: emojibase's messages hold arrays of {key, message}: a child table's `key`
    const counted = await Workspace.use('typing-test', (ws) =>
      DuckDbEngine.use({ threads: 1 }, async (engine) => {
        const file = ws.path('keys.parquet');
        await engine.run(
          `copy (select 'dark' as key, map(['a', 'b'], [1, 2]) as m) to ${quoteLiteral(file)}`
        );

        // Act
        return datasetLeaves(
          engine,
          [file],
          [
            { name: 'key', path: '$."key"', type: 'VARCHAR' },
            { name: 'm', path: '$."m"', type: 'MAP(VARCHAR, BIGINT)' },
          ]
        );
      })
    );

    // Assess: `key`'s one value and the map's two values
    expect(counted).toEqual({ typed: 3, json: 0, variant: 0, estimated: false });
  });

  it('counts every number inside nested LIST columns as a leaf, and empty or null lists as none', async () => {
    // Prepare: GeoJSON's Polygon rings, one with a null point and an empty ring
    const counted = await Workspace.use('typing-test', (ws) =>
      DuckDbEngine.use({ threads: 1 }, async (engine) => {
        const file = ws.path('rings.parquet');
        await engine.run(
          `copy (select * from (values ([[[1.5, 2], [3, null]], []]::double[][][]), (null), ([null, [[4, 5]]])) t(rings)) to ${quoteLiteral(file)}`
        );

        // Act
        return datasetLeaves(
          engine,
          [file],
          [{ name: 'rings', path: '$."rings"', type: 'DOUBLE[][][]' }]
        );
      })
    );

    // Assess: 1.5, 2, 3, 4 and 5
    expect(counted).toEqual({ typed: 5, json: 0, variant: 0, estimated: false });
  });

  it('names the widest sampled record shape first', async () => {
    // Act
    const result = await flatten('typing_shapes', RECORDS, { infer: 'always' });

    // Assess: the record with `late` is a shape of its own, and the widest
    const [widest, next] = result.typing?.widest ?? [];
    expect(widest).toMatchObject({
      keys: [...Object.keys(RECORDS[7] ?? {})].sort(),
      sampled: 1,
      leafPaths: 12,
      example: 'raw/typing_shapes/a.jsonl',
    });
    expect(next?.leafPaths).toBe(10);
  });
});

/** A staged object whose sampled lines are these. */
const sampled = (key: string, lines: readonly string[]) =>
  ({ key, info: { sample: lines.map((line) => Buffer.from(line)) } }) as unknown as LocalObject;

describe('Function: widestShapes', () => {
  it('keeps the widest few shapes, cuts long keys and skips lines that hold no object', () => {
    // Prepare: shapes of 1…8 keys, a long key, a broken line and an array
    const lines = Array.from({ length: 8 }, (_, n) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: n + 1 }, (_, k) => [`k${k}`, k])))
    );
    const long = 'x'.repeat(200);

    // Act
    const shapes = widestShapes([
      sampled('raw/f/a', lines),
      sampled('raw/f/b', [JSON.stringify({ [long]: { a: [1, 2, { b: 3 }] } }), '{"a":', '[1]']),
    ]);

    // Assess
    expect(shapes).toHaveLength(WIDEST_SHAPES);
    expect(shapes.map((shape) => shape.keyCount)).toEqual([8, 7, 6, 5, 4]);
    expect(widestShapes([sampled('raw/f/b', [JSON.stringify({ [long]: 1 })])])[0]?.keys).toEqual([
      `${long.slice(0, SHAPE_KEY_CHARS - 1)}…`,
    ]);
  });

  it('counts each leaf path of a shape once over its records, whatever its keys hold', () => {
    // Prepare: one shape in two records; a path that is an object in one and a scalar in the
    // other, array elements as one path, keys that look like paths
    const records = [
      { a: { b: 1 }, c: [1, { d: 2 }, { d: 3 }], 'c[]': true, 'a.b': null },
      { a: 3, c: [], 'c[]': false, 'a.b': 'x' },
    ];

    // Act
    const [shape] = widestShapes([
      sampled(
        'raw/f/a',
        records.map((r) => JSON.stringify(r))
      ),
    ]);

    // Assess: a.b, c[], c[].d, the key c[], a and the key a.b; the first record holds 5 leaves
    expect(shape).toMatchObject({ leafPaths: 6, leaves: 5, sampled: 2 });
  });
});

describe('Function: typingReport', () => {
  it('sums batches into shares and merges a shape two batches saw', () => {
    // Prepare
    const shape = (leafPaths: number, sampledRecords: number): RecordShape => ({
      keys: ['a', 'b'],
      keyCount: 2,
      leafPaths,
      leaves: leafPaths,
      sampled: sampledRecords,
      example: 'raw/f/a',
    });

    // Act
    const report = typingReport({ feed: 'f', runId: 'r' }, [
      { leaves: { typed: 60, child: 20, json: 10, variant: 0 }, widest: [shape(4, 3)] },
      undefined,
      {
        leaves: { typed: 0, child: 0, json: 0, variant: 10 },
        estimated: true,
        widest: [shape(6, 2)],
      },
    ]);

    // Assess
    expect(report).toMatchObject({
      feed: 'f',
      runId: 'r',
      batches: 2,
      leaves: { typed: 60, child: 20, json: 10, variant: 10, total: 100 },
      estimated: true,
      shares: { typed: 0.6, child: 0.2, json: 0.1, variant: 0.1, typedOrChild: 0.8 },
      widestShapes: [{ keys: ['a', 'b'], leafPaths: 6, sampled: 5 }],
    });
  });
});
