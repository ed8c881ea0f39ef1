import { join } from 'node:path';
import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DynamoDbLedger } from '../adapters/index.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { readBatchManifest } from './batchManifest.js';
import { childDataset } from './childTables.js';
import type { DuckType } from './duckType.js';
import type { FlatColumn } from './flattenPlan.js';
import {
  type InferredTable,
  inferredPlan,
  MAX_CHILD_TABLES,
  tableDepthWithin,
} from './inferredPlan.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions } from './types.js';

let lake: LocalLake;
let dynamo: LocalDynamoDb;
let ledger: DynamoDbLedger;

const OPTIONS: FlattenBatchOptions = {
  separator: '_',
  maxDepth: 3,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: true,
  infer: 'always',
};

beforeAll(async () => {
  lake = await startLocalLake();
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'ledger', key: 'object_key' }] });
  ledger = new DynamoDbLedger({ tableName: 'ledger', client: dynamo.client });
});

afterAll(async () => {
  await dynamo?.stop();
  await lake?.stop();
});

/**
 * Flattens records (as JSON Lines, a file each if `perFile`) of a feed of their own, with a
 * registry if given.
 */
const flattenRecords = async (
  feed: string,
  records: readonly unknown[],
  options: Partial<FlattenBatchOptions> = {},
  registry?: FlatColumn[],
  perFile = false
) => {
  // A string is a line as written (a number JavaScript would round).
  const lines = records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));
  const bodies = perFile ? lines : [lines.join('\n')];
  const keys = bodies.map((_, i) => `raw/${feed}/${String(i).padStart(3, '0')}.jsonl`);
  for (const [i, key] of keys.entries()) await lake.store.put(key, bodies[i] as string);
  const registryKey = registry ? `_schemas/${feed}/registry-copy.json` : undefined;
  if (registryKey) await lake.store.put(registryKey, JSON.stringify({ columns: registry }));
  const result = await DuckDbEngine.use({}, (engine) =>
    runFlattenBatch(
      {
        feed,
        batchId: `${feed}-1`,
        objects: keys.map((key) => ({ key, size: 1 })),
        ...(registryKey ? { registryKey } : {}),
      },
      { store: lake.store, engine, ledger, options: { ...OPTIONS, ...options } }
    )
  );
  const manifest = await readBatchManifest(lake.store, result.manifestKey);
  const download = async (keys: readonly string[], name: string) => {
    const files: string[] = [];
    for (const [i, k] of keys.entries()) {
      const local = join(lake.dir, `${feed}-${name}-${i}.parquet`);
      await lake.store.download(k, local);
      files.push(quoteLiteral(local));
    }
    return `read_parquet([${files.join(', ')}])`;
  };
  const schema = JSON.parse(new TextDecoder().decode(await lake.store.get(result.schemaKey))) as {
    columns: FlatColumn[];
  };
  return {
    result,
    columns: schema.columns,
    feed: await download(manifest.outputs, 'feed'),
    children: Object.fromEntries(
      await Promise.all(
        manifest.children.map(async (c) => [c.dataset, await download(c.outputs, c.dataset)])
      )
    ) as Record<string, string>,
  };
};

const rows = (sql: string) =>
  DuckDbEngine.use(
    {},
    async (engine) =>
      JSON.parse(
        JSON.stringify(await engine.all(sql), (_k, v) => (typeof v === 'bigint' ? Number(v) : v))
      ) as Record<string, unknown>[]
  );

const DAY = { DATE: '2024-05-03', MODE: 'web' };

describe('Function: runFlattenBatch (typed from inference)', () => {
  it("types a leaf at any depth natively, past the sampled plan's depth of 3", async () => {
    // Act
    const out = await flattenRecords('deep', [
      { ...DAY, a: { b: { c: { d: { e: 1, f: 'x' } } } } },
      { ...DAY, a: { b: { c: { d: { e: 2 } } } } },
    ]);
    const found = await rows(
      `select a_b_c_d_e::int as a_b_c_d_e, a_b_c_d_f from ${out.feed} order by _source_line`
    );

    // Assess
    expect(out.result.keyPass).toBe(false);
    expect(out.columns).toContainEqual({
      name: 'a_b_c_d_e',
      path: '$."a"."b"."c"."d"."e"',
      type: 'BIGINT',
    });
    expect(found).toEqual([
      { a_b_c_d_e: 1, a_b_c_d_f: 'x' },
      { a_b_c_d_e: 2, a_b_c_d_f: null },
    ]);
  });

  it('splits a field of mixed kinds into one typed column per kind, no value altered', async () => {
    // Prepare: an ISO time in one event, an epoch number in another (GitHub's pushed_at).
    const records = [
      { ...DAY, at: '2019-05-15T15:19:25Z', v: 'text' },
      { ...DAY, at: 1557933565, v: 1.5 },
      { ...DAY, at: null, v: true },
      { ...DAY, v: { x: [1, 2] } },
      { ...DAY, v: 12 },
    ];

    // Act
    const out = await flattenRecords('mixed', records);
    const found = await rows(
      `select "at", at__v_bigint::int as at__v_bigint, v, v__v_double, v__v_bigint::int as v__v_bigint, v__v_bool, v_x::varchar as v_x, _variant from ${out.feed} order by _source_line`
    );

    // Assess
    expect(out.columns.filter((c) => c.path === '$."v"')).toEqual([
      { name: 'v', path: '$."v"', type: 'VARCHAR' },
      { name: 'v__v_double', path: '$."v"', type: 'DOUBLE', variant: 'double' },
      { name: 'v__v_bigint', path: '$."v"', type: 'BIGINT', variant: 'bigint' },
      { name: 'v__v_bool', path: '$."v"', type: 'BOOLEAN', variant: 'bool' },
    ]);
    // Its object's field is a column of its own, a list of integers read as JSON and typed
    expect(out.columns).toContainEqual({ name: 'v_x', path: '$."v"."x"', type: 'BIGINT[]' });
    const none = {
      at: null,
      at__v_bigint: null,
      v: null,
      v__v_double: null,
      v__v_bigint: null,
      v__v_bool: null,
      v_x: null,
      _variant: null,
    };
    expect(found).toEqual([
      { ...none, at: '2019-05-15T15:19:25Z', v: 'text' },
      { ...none, at__v_bigint: 1557933565, v__v_double: 1.5 },
      { ...none, v__v_bool: true },
      { ...none, v_x: '[1, 2]' },
      { ...none, v__v_bigint: 12 },
    ]);
  });

  it('writes arrays of objects as child tables linked to their parent row, nested ones too', async () => {
    // Prepare
    const records = [
      {
        ...DAY,
        id: 1,
        commits: [
          { sha: 'a', files: [{ name: 'x' }, { name: 'y' }] },
          { sha: 'b', files: [] },
        ],
      },
      { ...DAY, id: 2, commits: [{ sha: 'c', files: [{ name: 'z' }] }] },
      { ...DAY, id: 3 },
    ];

    // Act
    const out = await flattenRecords('nested', records);
    const commits = out.children.nested__commits as string;
    const files = out.children.nested__commits__files as string;
    const children = await rows(
      `select c._source_line::int as line, c._index::int as commit, c.sha, f._index::int as file, f.name
       from ${commits} c left join ${files} f
         on f._source_key = c._source_key and f._source_line = c._source_line and f._parent_index = [c._index]
       order by 1, 2, 4`
    );

    // Assess
    expect(out.result.children.map((c) => [c.dataset, c.rowsWritten])).toEqual([
      ['nested__commits', 3],
      ['nested__commits__files', 3],
    ]);
    expect(children).toEqual([
      { line: 1, commit: 1, sha: 'a', file: 1, name: 'x' },
      { line: 1, commit: 1, sha: 'a', file: 2, name: 'y' },
      { line: 1, commit: 2, sha: 'b', file: null, name: null },
      { line: 2, commit: 1, sha: 'c', file: 1, name: 'z' },
    ]);
    expect(out.columns.map((c) => c.name)).toEqual(['date', 'mode_2', 'id']);
  });

  it('keeps an empty object among the elements apart from a null one, in _variant', async () => {
    // Prepare: an element `{}`, a null one, and an element whose object `at` is `{}` or null
    const records = [
      { ...DAY, items: [{ sku: 'a', at: { x: 1 } }, {}, null, { sku: 'b', at: {} }] },
      { ...DAY, items: [{ sku: 'c', at: null }] },
    ];

    // Act
    const out = await flattenRecords('empties', records);
    const found = await rows(
      `select _source_line::int as line, _index::int as i, sku, at_x::int as at_x, _variant::varchar as v from ${out.children.empties__items} order by 1, 2`
    );

    // Assess
    expect(found).toEqual([
      { line: 1, i: 1, sku: 'a', at_x: 1, v: null },
      { line: 1, i: 2, sku: null, at_x: null, v: '[{"$":{}}]' },
      { line: 1, i: 3, sku: null, at_x: null, v: null },
      { line: 1, i: 4, sku: 'b', at_x: null, v: '[{"$.\\"at\\"":{}}]' },
      { line: 2, i: 1, sku: 'c', at_x: null, v: null },
    ]);
  });

  it('writes arrays of scalars as typed LIST columns', async () => {
    // Act
    const out = await flattenRecords('lists', [
      { ...DAY, tags: ['a', 'b'], ids: [1, null, 3] },
      { ...DAY, tags: [], ids: null },
    ]);
    const found = await rows(
      `select tags, ids::int[] as ids from ${out.feed} order by _source_line`
    );

    // Assess
    expect(out.columns.filter((c) => c.name === 'tags' || c.name === 'ids')).toEqual([
      { name: 'tags', path: '$."tags"', type: 'VARCHAR[]' },
      { name: 'ids', path: '$."ids"', type: 'BIGINT[]' },
    ]);
    expect(found).toEqual([
      { tags: ['a', 'b'], ids: [1, null, 3] },
      { tags: [], ids: null },
    ]);
  });

  it('writes objects whose keys are data as a MAP column or a key/value child table, not a column per key', async () => {
    // Prepare: 500 records, each with 2 of 1,000 ids as keys.
    const records = Array.from({ length: 500 }, (_, n) => ({
      ...DAY,
      stars: { [`u${2 * n}`]: n, [`u${2 * n + 1}`]: n + 1 },
      docs: {
        [`d${2 * n}`]: { title: `t${n}`, size: n },
        [`d${2 * n + 1}`]: { title: 'x', size: 1 },
      },
    }));

    // Act
    const out = await flattenRecords('maps', records);
    const docs = out.children.maps__docs as string;
    const [first] = await rows(`select stars from ${out.feed} where _source_line = 1`);
    const entries = await rows(
      `select _key, value_title, value_size::int as value_size, _index::int as _index from ${docs} where _source_line = 1 order by _index`
    );

    // Assess
    expect(out.columns.map((c) => [c.name, c.type])).toEqual([
      ['date', 'VARCHAR'],
      ['mode_2', 'VARCHAR'],
      ['stars', 'MAP(VARCHAR, BIGINT)'],
    ]);
    expect(first?.stars).toBeDefined();
    expect(entries).toEqual([
      { _key: 'd0', value_title: 't0', value_size: 0, _index: 1 },
      { _key: 'd1', value_title: 'x', value_size: 1, _index: 2 },
    ]);
    expect(out.result.children).toEqual([
      expect.objectContaining({ dataset: 'maps__docs', rowsWritten: 1000 }),
    ]);
  });

  it('writes objects keyed by codes, a few of 150 in each record, as maps by default, not a column per code', async () => {
    // Prepare: world-countries' shape: `currencies` and `languages` keyed by ISO codes, one to
    // three a record, beside fields every record holds
    const code = (n: number) => `C${String(n % 150).padStart(3, '0')}`;
    const records = Array.from({ length: 250 }, (_, n) => ({
      ...DAY,
      cca3: `K${n}`,
      currencies: Object.fromEntries(
        Array.from({ length: 1 + (n % 3) }, (_, k) => [
          code(n + 50 * k),
          { name: `n${n}`, symbol: '¤' },
        ])
      ),
      languages: { [code(n)]: `l${n}` },
    }));

    // Act
    const out = await flattenRecords('codes', records, { infer: undefined });
    const currencies = out.children.codes__currencies as string;
    const entries = await rows(
      `select _source_line::int as line, _key, value_name, value_symbol from ${currencies} where _source_line <= 3 order by 1, _index`
    );
    const languages = await rows(
      `select map_extract_value(languages, 'C001') as l from ${out.feed} where _source_line = 2`
    );

    // Assess
    expect(out.columns.map((c) => [c.name, c.type])).toEqual([
      ['date', 'VARCHAR'],
      ['mode_2', 'VARCHAR'],
      ['cca3', 'VARCHAR'],
      ['languages', 'MAP(VARCHAR, VARCHAR)'],
    ]);
    expect(entries).toEqual([
      { line: 1, _key: 'C000', value_name: 'n0', value_symbol: '¤' },
      { line: 2, _key: 'C001', value_name: 'n1', value_symbol: '¤' },
      { line: 2, _key: 'C051', value_name: 'n1', value_symbol: '¤' },
      { line: 3, _key: 'C002', value_name: 'n2', value_symbol: '¤' },
      { line: 3, _key: 'C052', value_name: 'n2', value_symbol: '¤' },
      { line: 3, _key: 'C102', value_name: 'n2', value_symbol: '¤' },
    ]);
    expect(languages).toEqual([{ l: 'l1' }]);
    expect(out.result.children).toEqual([
      expect.objectContaining({ dataset: 'codes__currencies', rowsWritten: 499 }),
    ]);
  });

  it('types objects whose keys differ only in case (CLDR’s date skeletons) as maps, not the whole batch by the key pass', async () => {
    // Prepare: CLDR's shape (cldr-dates-modern, Unicode licence): each record keyed by its
    // locale, one of 150, its skeletons `Hm` beside `hm`, which no STRUCT can name apart
    const records = Array.from({ length: 150 }, (_, n) => ({
      ...DAY,
      main: {
        [`loc${n}`]: {
          identity: { language: `l${n}` },
          formats: { Hm: `HH:mm ${n}`, hm: `h:mm a ${n}`, Ehm: `E h:mm a ${n}` },
        },
      },
    }));

    // Act
    const out = await flattenRecords('skeletons', records, { infer: undefined });
    const main = out.children.skeletons__main as string;
    const formats = await rows(
      `select _key, map_extract_value(value_formats, 'Hm') as upper, map_extract_value(value_formats, 'hm') as lower from ${main} where _key = 'loc7'`
    );

    // Assess: every skeleton kept, its case too, and the batch read once
    expect(out.columns.find((c) => c.name.startsWith('main'))).toBeUndefined();
    expect(formats).toEqual([{ _key: 'loc7', upper: 'HH:mm 7', lower: 'h:mm a 7' }]);
    expect(out.result.keyPass).toBe(false);
  });

  it('types a tree of names (MDN browser-compat data’s shape) as nested key/value child tables, its common keys as fields', async () => {
    // Prepare: BCD's shape, reproduced (@mdn/browser-compat-data, CC0): each record's `feature`
    // holds its `__compat` and features named by data, 300 names in all, each with its own
    // `__compat` and two sub-features of names of their own; one record (BCD's browsers)
    // holds scalars and an object of versions there instead
    // A browser's support is one statement, or a list of them (sub-features' `/1`)
    const compat = (url: string) => ({
      mdn_url: url,
      status: { deprecated: false, experimental: url.endsWith('0') },
      support: {
        chrome: url.endsWith('/1')
          ? [{ version_added: '40' }, { version_added: '30', partial_implementation: true }]
          : { version_added: '32' },
      },
    });
    const records: unknown[] = Array.from({ length: 60 }, (_, r) => ({
      ...DAY,
      name: `api${r}`,
      feature: {
        __compat: compat(`api${r}`),
        ...Object.fromEntries(
          Array.from({ length: 5 }, (_, f) => [
            `f${r}_${f}`,
            {
              __compat: compat(`api${r}/f${f}`),
              [`s${r}_${f}_0`]: { __compat: compat(`api${r}/f${f}/0`) },
              [`s${r}_${f}_1`]: { __compat: compat(`api${r}/f${f}/1`) },
            },
          ])
        ),
      },
    }));
    records.push({
      ...DAY,
      name: 'chrome',
      feature: { accepts_flags: true, type: 'desktop', releases: { '1': { status: 'retired' } } },
    });

    // Act
    const out = await flattenRecords('bcd', records);
    const features = out.children.bcd__feature as string;
    const subs = out.children.bcd__feature__value as string;
    const found = await rows(
      `select f._key, f.value_compat_mdn_url as url, f.value_compat_status_experimental as experimental, s._key as sub, s.value_compat_mdn_url as sub_url
       from ${features} f join ${subs} s
         on s._source_line = f._source_line and s._parent_index = [f._index]
       where f._source_line = 2 and f._key = 'f1_0' order by s._index`
    );
    const statements = await rows(
      `select s._key as sub, s.value_compat_support_chrome_version_added as added, c.version_added as listed, c.partial_implementation as partial
       from ${subs} s left join ${out.children.bcd__feature__value__value_compat_support_chrome} c
         on c._source_line = s._source_line and c._parent_index = [s._parent_index[1], s._index]
       where s._source_line = 2 and s._parent_index = [1] order by s._index, c._index`
    );
    const browser = await rows(
      `select f._key, f."value", f.value__v_bool, s._key as sub, s.value_status from ${features} f
         left join ${subs} s on s._source_line = f._source_line and s._parent_index = [f._index]
       where f._source_line = 61 order by f._index`
    );

    // Assess: the common key a field of every table, each name a row, nothing left as JSON
    expect(out.result).toMatchObject({ recordsRead: 61, rowsWritten: 61, recordsQuarantined: 0 });
    expect(out.columns.map((c) => [c.name, c.type])).toEqual([
      ['date', 'VARCHAR'],
      ['mode_2', 'VARCHAR'],
      ['name', 'VARCHAR'],
      ['feature_compat_mdn_url', 'VARCHAR'],
      ['feature_compat_status_deprecated', 'BOOLEAN'],
      ['feature_compat_status_experimental', 'BOOLEAN'],
      ['feature_compat_support_chrome_version_added', 'VARCHAR'],
    ]);
    expect(out.result.children.map((c) => [c.dataset, c.rowsWritten])).toEqual([
      ['bcd__feature', 303],
      ['bcd__feature__value', 601],
      ['bcd__feature__value__value_compat_support_chrome', 600],
    ]);
    expect(statements).toEqual([
      { sub: 's1_0_0', added: '32', listed: null, partial: null },
      { sub: 's1_0_1', added: null, listed: '40', partial: null },
      { sub: 's1_0_1', added: null, listed: '30', partial: true },
    ]);
    expect(found).toEqual([
      { _key: 'f1_0', url: 'api1/f0', experimental: true, sub: 's1_0_0', sub_url: 'api1/f0/0' },
      { _key: 'f1_0', url: 'api1/f0', experimental: true, sub: 's1_0_1', sub_url: 'api1/f0/1' },
    ]);
    expect(browser).toEqual([
      { _key: 'accepts_flags', value: null, value__v_bool: true, sub: null, value_status: null },
      { _key: 'type', value: 'desktop', value__v_bool: null, sub: null, value_status: null },
      { _key: 'releases', value: null, value__v_bool: null, sub: '1', value_status: 'retired' },
    ]);
    const json = [out.columns, ...Object.values(out.children)].flat();
    expect(json.filter((c) => typeof c === 'object' && c.type === 'JSON')).toEqual([]);
  });

  it("types each kind of a record's field of several kinds: objects into columns, lists as a LIST column, arrays of objects as a child table", async () => {
    // Prepare: package.json's shapes (npm): `repository` and `author` a string or an object,
    // `keywords` a list or one string, `funding` a string, an object or a list of both,
    // `contributors` a list of strings and objects; the dependencies' names (60 each, none
    // shared) make the batch one typed in Node
    const deps = (r: number) =>
      Object.fromEntries(Array.from({ length: 60 }, (_, d) => [`dep${r}_${d}`, `^${d}.0.0`]));
    const records = [
      {
        ...DAY,
        dependencies: deps(1),
        repository: 'github:a/b',
        author: { name: 'Ann', email: 'ann@x.org' },
        keywords: ['json', 'flat'],
        contributors: ['Cy <cy@x.org>', { name: 'Di', email: 'di@x.org' }],
        funding: [{ type: 'github', url: 'https://g/a' }, 'https://p/a'],
      },
      {
        ...DAY,
        dependencies: deps(2),
        repository: { type: 'git', url: 'git+https://x/b.git' },
        author: 'Bob <bob@x.org>',
        bin: 'cli.js',
        keywords: 'single',
        funding: 'https://f/b',
      },
      {
        ...DAY,
        dependencies: deps(3),
        repository: { type: 'git', url: 'https://x/c', directory: 'packages/c' },
        keywords: [],
        contributors: [{ name: 'Ed' }],
        funding: { type: 'opencollective', url: 'https://o/c' },
      },
      {
        ...DAY,
        dependencies: deps(4),
        repository: {},
        author: { name: 'Dee' },
        bin: {},
        funding: [],
      },
    ];

    // Act
    const out = await flattenRecords('pkgs', records);
    const found = await rows(
      `select repository, repository_type, repository_url, repository_directory, author, author_name, author_email,
         keywords, keywords__v_text, funding, funding_type, funding_url, _variant::varchar as v
       from ${out.feed} order by _source_line`
    );
    const funding = await rows(
      `select _source_line::int as line, _index::int as i, "value", value_type, value_url from ${out.children.pkgs__funding} order by 1, 2`
    );
    const contributors = await rows(
      `select _source_line::int as line, _index::int as i, "value", value_name, value_email from ${out.children.pkgs__contributors} order by 1, 2`
    );

    // Assess: one column per path and kind, nothing left as JSON text, nothing lost
    expect(out.result).toMatchObject({ recordsRead: 4, rowsWritten: 4, recordsQuarantined: 0 });
    const of = (top: string) => out.columns.filter((c) => c.path.startsWith(`$."${top}"`));
    expect(of('repository')).toEqual(
      expect.arrayContaining([
        { name: 'repository', path: '$."repository"', type: 'VARCHAR' },
        { name: 'repository_type', path: '$."repository"."type"', type: 'VARCHAR' },
        { name: 'repository_url', path: '$."repository"."url"', type: 'VARCHAR' },
        { name: 'repository_directory', path: '$."repository"."directory"', type: 'VARCHAR' },
      ])
    );
    expect(of('repository')).toHaveLength(4);
    expect(of('keywords')).toEqual([
      { name: 'keywords', path: '$."keywords"', type: 'VARCHAR[]' },
      { name: 'keywords__v_text', path: '$."keywords"', type: 'VARCHAR', variant: 'text' },
    ]);
    // An object only ever empty has no field to type: it is kept with the path's other kinds.
    expect(of('bin')).toEqual([
      { name: 'bin', path: '$."bin"', type: 'VARCHAR' },
      { name: 'bin__v_json', path: '$."bin"', type: 'JSON', variant: 'json' },
    ]);
    expect(out.columns.filter((c) => c.type === 'JSON')).toEqual([of('bin')[1]]);
    expect(found.map(({ v, ...row }) => ({ ...row, v: v && JSON.parse(String(v)) }))).toEqual([
      {
        repository: 'github:a/b',
        repository_type: null,
        repository_url: null,
        repository_directory: null,
        author: null,
        author_name: 'Ann',
        author_email: 'ann@x.org',
        keywords: ['json', 'flat'],
        keywords__v_text: null,
        funding: null,
        funding_type: null,
        funding_url: null,
        v: null,
      },
      {
        repository: null,
        repository_type: 'git',
        repository_url: 'git+https://x/b.git',
        repository_directory: null,
        author: 'Bob <bob@x.org>',
        author_name: null,
        author_email: null,
        keywords: null,
        keywords__v_text: 'single',
        funding: 'https://f/b',
        funding_type: null,
        funding_url: null,
        v: null,
      },
      {
        repository: null,
        repository_type: 'git',
        repository_url: 'https://x/c',
        repository_directory: 'packages/c',
        author: null,
        author_name: null,
        author_email: null,
        keywords: [],
        keywords__v_text: null,
        funding: null,
        funding_type: 'opencollective',
        funding_url: 'https://o/c',
        v: null,
      },
      {
        repository: null,
        repository_type: null,
        repository_url: null,
        repository_directory: null,
        author: null,
        author_name: 'Dee',
        author_email: null,
        keywords: null,
        keywords__v_text: null,
        funding: null,
        funding_type: null,
        funding_url: null,
        // An empty object or list is kept apart from a missing one, under its path.
        v: [{ '$."funding"': [] }, { '$."repository"': {} }],
      },
    ]);
    expect(funding).toEqual([
      { line: 1, i: 1, value: null, value_type: 'github', value_url: 'https://g/a' },
      { line: 1, i: 2, value: 'https://p/a', value_type: null, value_url: null },
    ]);
    expect(contributors).toEqual([
      { line: 1, i: 1, value: 'Cy <cy@x.org>', value_name: null, value_email: null },
      { line: 1, i: 2, value: null, value_name: 'Di', value_email: 'di@x.org' },
      { line: 3, i: 1, value: null, value_name: 'Ed', value_email: null },
    ]);
  });

  it("keeps a record's field of several kinds whose objects the registry holds as JSON in that column", async () => {
    // Prepare: an earlier batch wrote `repository`'s objects to its `__v_json` variant column
    const deps = (r: number) =>
      Object.fromEntries(Array.from({ length: 60 }, (_, d) => [`dep${r}_${d}`, `^${d}.0.0`]));
    const registry: FlatColumn[] = [
      { name: 'repository', path: '$."repository"', type: 'VARCHAR' },
      { name: 'repository__v_json', path: '$."repository"', type: 'JSON', variant: 'json' },
    ];
    const records = [1, 2, 3, 4].map((r) => ({
      ...DAY,
      dependencies: deps(r),
      repository: r % 2 ? `github:a/${r}` : { type: 'git', url: `https://x/${r}` },
    }));

    // Act
    const out = await flattenRecords('pkgs_kept', records, {}, registry);
    const found = await rows(
      `select repository, repository__v_json::varchar as j from ${out.feed} order by _source_line`
    );

    // Assess
    expect(out.columns.filter((c) => c.path.startsWith('$."repository"'))).toEqual(registry);
    expect(found.map((row) => [row.repository, row.j && JSON.parse(String(row.j))])).toEqual(
      records.map((r) =>
        typeof r.repository === 'string' ? [r.repository, null] : [null, r.repository]
      )
    );
  });

  it("types the objects and arrays of a record's field of several kinds that DuckDB's inference reads as JSON", async () => {
    // Prepare: npm's package.json shapes in a batch DuckDB's inference types (no map in it);
    // `odd`'s objects hold keys that differ only in case, which no STRUCT holds apart
    const records = [
      {
        ...DAY,
        repository: 'github:a/b',
        keywords: ['json', 'flat'],
        funding: [{ type: 'github', url: 'https://g/a' }],
        odd: 'x',
      },
      {
        ...DAY,
        repository: { type: 'git', url: 'https://x/b', n: 5 },
        keywords: 'single',
        funding: 'https://f/b',
        odd: { Id: 1, id: 2 },
      },
      { ...DAY, repository: { type: 'git', url: 'https://x/c', n: 2.5 }, keywords: [] },
    ];

    // Act
    const out = await flattenRecords('pkgs_inferred', records);
    const found = await rows(
      `select repository, repository_type, repository_url, repository_n, keywords, keywords__v_text, funding, odd, odd__v_json::varchar as odd_json
       from ${out.feed} order by _source_line`
    );
    const funding = await rows(
      `select _source_line::int as line, _index::int as i, "type", url from ${out.children.pkgs_inferred__funding}`
    );

    // Assess: each kind in its columns, the clashing keys' objects kept whole
    expect(out.result).toMatchObject({ keyPass: false, rowsWritten: 3, recordsQuarantined: 0 });
    expect(out.columns.filter((c) => /^\$\."(repository|keywords|odd)"/.test(c.path))).toEqual(
      expect.arrayContaining([
        { name: 'repository', path: '$."repository"', type: 'VARCHAR' },
        { name: 'repository_type', path: '$."repository"."type"', type: 'VARCHAR' },
        { name: 'repository_n', path: '$."repository"."n"', type: 'DOUBLE' },
        { name: 'keywords', path: '$."keywords"', type: 'VARCHAR[]' },
        { name: 'keywords__v_text', path: '$."keywords"', type: 'VARCHAR', variant: 'text' },
        { name: 'odd__v_json', path: '$."odd"', type: 'JSON', variant: 'json' },
      ])
    );
    expect(found).toEqual([
      {
        repository: 'github:a/b',
        repository_type: null,
        repository_url: null,
        repository_n: null,
        keywords: ['json', 'flat'],
        keywords__v_text: null,
        funding: null,
        odd: 'x',
        odd_json: null,
      },
      {
        repository: null,
        repository_type: 'git',
        repository_url: 'https://x/b',
        repository_n: 5,
        keywords: null,
        keywords__v_text: 'single',
        funding: 'https://f/b',
        odd: null,
        odd_json: '{"Id":1,"id":2}',
      },
      {
        repository: null,
        repository_type: 'git',
        repository_url: 'https://x/c',
        repository_n: 2.5,
        keywords: [],
        keywords__v_text: null,
        funding: null,
        odd: null,
        odd_json: null,
      },
    ]);
    expect(funding).toEqual([{ line: 1, i: 1, type: 'github', url: 'https://g/a' }]);
  });

  it('keeps every digit of an integer past 2^53 among decimals, in _variant', async () => {
    // Act
    const out = await flattenRecords('digits', [
      { ...DAY, n: 1.5 },
      `{"DATE": "2024-05-03", "MODE": "web", "n": 9007199254740993}`,
      { ...DAY, n: 2 },
    ]);
    const found = await rows(
      `select n, _variant::varchar as v from ${out.feed} order by _source_line`
    );

    // Assess
    expect(out.columns).toContainEqual({ name: 'n', path: '$."n"', type: 'DOUBLE' });
    expect(found).toEqual([
      { n: 1.5, v: null },
      { n: null, v: '[{"n":9007199254740993}]' },
      { n: 2, v: null },
    ]);
  });

  it("keeps a registered column's type: values of other kinds go to variant columns", async () => {
    // Prepare: the registry typed amount BIGINT and note VARCHAR; this batch holds decimals and
    // text in amount, and only numbers in note.
    const registry: FlatColumn[] = [
      { name: 'amount', path: '$."amount"', type: 'BIGINT' },
      { name: 'note', path: '$."note"', type: 'VARCHAR' },
    ];

    // Act
    const out = await flattenRecords(
      'registered',
      [
        { ...DAY, amount: 2, note: 5 },
        { ...DAY, amount: 2.5, note: 6 },
        { ...DAY, amount: 'n/a' },
      ],
      {},
      registry
    );
    const found = await rows(
      `select amount::int as amount, amount__v_double, amount__v_text, note, note__v_bigint::int as note__v_bigint from ${out.feed} order by _source_line`
    );

    // Assess
    expect(
      out.columns.filter((c) => !c.variant && (c.name === 'amount' || c.name === 'note'))
    ).toEqual(registry);
    expect(found).toEqual([
      { amount: 2, amount__v_double: null, amount__v_text: null, note: null, note__v_bigint: 5 },
      { amount: null, amount__v_double: 2.5, amount__v_text: null, note: null, note__v_bigint: 6 },
      {
        amount: null,
        amount__v_double: null,
        amount__v_text: 'n/a',
        note: null,
        note__v_bigint: null,
      },
    ]);
  });

  it('quarantines lines that hold no record with their line numbers, and counts reconcile', async () => {
    // Prepare
    const key = 'raw/broken/a.jsonl';
    await lake.store.put(
      key,
      [
        JSON.stringify({ ...DAY, a: { b: 1 } }),
        '{"a": NaN}',
        'not json',
        JSON.stringify({ ...DAY, a: { b: 2 } }),
      ].join('\n')
    );

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        { feed: 'broken', batchId: 'broken-1', objects: [{ key, size: 1 }] },
        { store: lake.store, engine, ledger, options: OPTIONS }
      )
    );
    const manifest = await readBatchManifest(lake.store, result.manifestKey);
    const local = join(lake.dir, 'broken.parquet');
    await lake.store.download(manifest.outputs[0] as string, local);
    const found = await rows(
      `select a_b::int as a_b, _source_line::int as _source_line from read_parquet(${quoteLiteral(local)}) order by 2`
    );

    // Assess
    expect([result.recordsRead, result.rowsWritten, result.recordsQuarantined]).toEqual([4, 2, 2]);
    expect(found).toEqual([
      { a_b: 1, _source_line: 1 },
      { a_b: 2, _source_line: 4 },
    ]);
  });

  it('keeps an object holding a key no JSON path reaches whole, as JSON, and types the rest of the batch', async () => {
    // Prepare: npm's `typesVersions` keyed by "*", an empty key, and an element holding a "*".
    const records = [1, 2].map((n) => ({
      ...DAY,
      a: { b: { c: { d: n } } },
      typesVersions: { '*': { '*': [`dist/${n}/*`] } },
      odd: { '': n, f: 'x' },
      files: [{ id: n, glob: { '*': n } }],
    }));

    // Act
    const out = await flattenRecords('unreachable', records);
    const found = await rows(
      `select a_b_c_d::int as d, types_versions, odd from ${out.feed} order by _source_line`
    );
    const files = await rows(
      `select id::int as id, "glob" from ${out.children.unreachable__files} order by _source_line`
    );

    // Assess: typed by inference (a leaf past the sampled depth), nothing lost
    expect(out.result).toMatchObject({ keyPass: false, rowsWritten: 2, recordsQuarantined: 0 });
    expect(out.columns).toEqual(
      expect.arrayContaining([
        { name: 'a_b_c_d', path: '$."a"."b"."c"."d"', type: 'BIGINT' },
        { name: 'types_versions', path: '$."typesVersions"', type: 'JSON' },
        { name: 'odd', path: '$."odd"', type: 'JSON' },
      ])
    );
    expect(
      found.map((row) => [
        row.d,
        JSON.parse(String(row.types_versions)),
        JSON.parse(String(row.odd)),
      ])
    ).toEqual(records.map((r) => [r.a.b.c.d, r.typesVersions, r.odd]));
    expect(files.map((row) => [row.id, JSON.parse(String(row.glob))])).toEqual(
      records.map((r) => [r.files[0]?.id, r.files[0]?.glob])
    );
  });

  it('leaves a batch with a top-level key no JSON path reaches to the key pass, which quarantines its records', async () => {
    // Prepare
    const records = [
      { ...DAY, a: { b: { c: { d: 1 } } } },
      { ...DAY, '*': { b: 1 } },
      { ...DAY, '': 2 },
    ];

    // Act
    const out = await flattenRecords('unreachable_top', records);

    // Assess
    expect(out.result).toMatchObject({ keyPass: true, rowsWritten: 1, recordsQuarantined: 2 });
  });

  it('leaves a batch with a key twice in one object to the other paths, which quarantine that record', async () => {
    // Prepare
    const key = 'raw/twice/a.jsonl';
    await lake.store.put(key, [JSON.stringify({ ...DAY, a: 1 }), '{"a": 1, "a": 2}'].join('\n'));

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        { feed: 'twice', batchId: 'twice-1', objects: [{ key, size: 1 }] },
        { store: lake.store, engine, ledger, options: OPTIONS }
      )
    );

    // Assess
    expect([result.recordsRead, result.rowsWritten, result.recordsQuarantined]).toEqual([2, 1, 1]);
    expect(result.keyPass).toBe(true);
  });
  it("types a batch of many files by every file's records, not DuckDB's first 32", async () => {
    // Prepare: 40 files of a record each; the last brings a key and a kind the others lack
    const records = Array.from({ length: 40 }, (_, i) =>
      i === 39 ? { ...DAY, n: 39, late: 'kept' } : { ...DAY, n: `t${i}` }
    );

    // Act
    const out = await flattenRecords('many_files', records, {}, undefined, true);
    const found = await rows(
      `select n, n__v_bigint::int as n__v_bigint, late from ${out.feed} where _source_key like '%039.jsonl'`
    );

    // Assess: DuckDB's inference sampled 32 files, and the read dropped the key it was not
    // given, and read the number as text
    expect(out.result).toMatchObject({ rowsWritten: 40, recordsQuarantined: 0, keyPass: false });
    expect(out.columns).toContainEqual({
      name: 'n__v_bigint',
      path: '$."n"',
      type: 'BIGINT',
      variant: 'bigint',
    });
    expect(found).toEqual([{ n: null, n__v_bigint: 39, late: 'kept' }]);
  });
});

/**
 * World-countries' `latlng` (integers and doubles), a list holding an integer a double cannot
 * hold, and GeoJSON's coordinates: Polygons (three lists deep) and MultiPolygons (four) at one
 * path. A string is a line as written (JavaScript would round 9007199254740993).
 */
const LISTS = [
  {
    ...DAY,
    latlng: [10, -2.5],
    big: [1.5],
    coords: [
      [
        [1, 2.5],
        [3, 4],
      ],
    ],
  },
  `{"DATE": "2024-05-03", "MODE": "web", "latlng": [-90, 0], "big": [1.5, 9007199254740993], "coords": [[[[5, 6.5]], [[7, 8]]]]}`,
  { ...DAY, latlng: [0.5, 1], big: [], coords: [[[-1, 0]]] },
];

/** The three ways a batch is typed: its sample's plan, DuckDB's inference, and Node's (maps). */
const LIST_PATHS = [
  ['the sampled plan', { infer: 'never' }, []],
  ["DuckDB's inference", { infer: 'always' }, []],
  // An object of more than 1,000 keys makes a map: the batch is typed in Node.
  [
    'Node (a batch holding a map)',
    { infer: 'always' },
    [{ ...DAY, names: Object.fromEntries(Array.from({ length: 1001 }, (_, k) => [`k${k}`, 'x'])) }],
  ],
] as const;

describe('Function: runFlattenBatch (lists of numbers, lists of lists)', () => {
  it.each(LIST_PATHS)(
    'types lists of integers and doubles as DOUBLE lists and lists of several depths as a column per depth, through %s',
    async (_, options, extra) => {
      // Act
      const feed = `lists_${options.infer}_${extra.length}`;
      const out = await flattenRecords(feed, [...LISTS, ...extra], options);
      const found = await rows(
        `select latlng, big, coords, coords__v_list4, _variant::varchar as v from ${out.feed} where _source_line <= 3 order by _source_line`
      );

      // Assess: every number typed but the integer past 2^53, whose list is kept as written
      expect(out.result).toMatchObject({ rowsWritten: 3 + extra.length, recordsQuarantined: 0 });
      expect(out.columns.filter((c) => /^\$\."(latlng|big|coords)"$/.test(c.path))).toEqual([
        { name: 'latlng', path: '$."latlng"', type: 'DOUBLE[]' },
        { name: 'big', path: '$."big"', type: 'DOUBLE[]' },
        { name: 'coords', path: '$."coords"', type: 'DOUBLE[][][]' },
        {
          name: 'coords__v_list4',
          path: '$."coords"',
          type: 'DOUBLE[][][][]',
          variant: 'list4',
        },
      ]);
      expect(found).toEqual([
        {
          latlng: [10, -2.5],
          big: [1.5],
          coords: [
            [
              [1, 2.5],
              [3, 4],
            ],
          ],
          coords__v_list4: null,
          v: null,
        },
        {
          latlng: [-90, 0],
          big: null,
          coords: null,
          coords__v_list4: [[[[5, 6.5]], [[7, 8]]]],
          v: '[{"big":[1.5,9007199254740993]}]',
        },
        { latlng: [0.5, 1], big: [], coords: [[[-1, 0]]], coords__v_list4: null, v: null },
      ]);
      expect(out.result.typing?.leaves).toMatchObject({ json: 0, variant: 2 });
    }
  );

  it.each(LIST_PATHS)(
    'keeps lists the registry holds as JSON columns in them, through %s',
    async (_, options, extra) => {
      // Prepare: an earlier run kept these paths as JSON text
      const registry: FlatColumn[] = [
        { name: 'latlng', path: '$."latlng"', type: 'JSON' },
        { name: 'coords', path: '$."coords"', type: 'JSON' },
      ];

      // Act
      const feed = `lists_kept_${options.infer}_${extra.length}`;
      const out = await flattenRecords(feed, [...LISTS, ...extra], options, registry);
      const found = await rows(
        `select latlng::varchar as latlng, coords::varchar as coords from ${out.feed} where _source_line <= 3 order by _source_line`
      );

      // Assess
      expect(out.columns.filter((c) => /^\$\."(latlng|coords)"$/.test(c.path))).toEqual(registry);
      expect(
        found.map((row) => [row.latlng, row.coords].map((v) => JSON.parse(String(v))))
      ).toEqual([
        [
          [10, -2.5],
          [
            [
              [1, 2.5],
              [3, 4],
            ],
          ],
        ],
        [[-90, 0], [[[[5, 6.5]], [[7, 8]]]]],
        [[0.5, 1], [[[-1, 0]]]],
      ]);
    }
  );
});

describe('Function: runFlattenBatch (when a batch is typed from inference)', () => {
  it('takes a batch whose sample shows a wide record by default, and leaves a narrow one to its sample', async () => {
    // Prepare: the same deep field beside 120 other fields, and beside one.
    const wide = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`f${i}`, i]));
    const deep = { a: { b: { c: { d: 1 } } } };

    // Act
    const typed = await flattenRecords('wide_default', [{ ...DAY, ...wide, ...deep }, DAY], {
      infer: undefined,
    });
    const sampled = await flattenRecords('narrow_default', [{ ...DAY, ...deep }, DAY], {
      infer: undefined,
    });

    // Assess
    expect(typed.columns).toContainEqual({
      name: 'a_b_c_d',
      path: '$."a"."b"."c"."d"',
      type: 'BIGINT',
    });
    expect(sampled.columns).toContainEqual({ name: 'a_b_c', path: '$."a"."b"."c"', type: 'JSON' });
  });
});

describe('Function: childDataset', () => {
  it('names a child table after its path, within 63 characters and apart from its siblings', () => {
    // Prepare
    const taken = new Set<string>();
    const long = ['a_very_long_key_name_that_goes_on', 'and_on_and_on_past_the_limit'];

    // Act
    const short = childDataset('hooks', ['commits'], '$."commits"[*]', taken);
    const again = childDataset('hooks', ['Commits'], '$."Commits"[*]', taken);
    const cut = childDataset('hooks', long, '$."a"."b"[*]', taken);

    // Assess
    expect(short).toBe('hooks__commits');
    expect(again).toMatch(/^hooks__commits_[0-9a-f]{8}$/);
    expect(cut).toHaveLength(63);
    expect(cut).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(childDataset('hooks', long, '$."a"."b"[*]', new Set())).toBe(cut);
  });

  it('names apart two tables of one path (a map’s entries and an array’s elements there)', () => {
    // Prepare
    const taken = new Set<string>();
    const long = ['a_very_long_key_name_that_goes_on', 'and_on_and_on_past_the_limit'];

    // Act
    const entries = childDataset('hooks', long, '$."a"."b"[*]', taken);
    const elements = childDataset('hooks', long, '$."a"."b"[*]', taken);

    // Assess
    expect(elements).not.toBe(entries);
    expect(elements).toHaveLength(63);
  });
});

describe('Function: tableDepthWithin', () => {
  it('bounds a recursive record’s child tables to MAX_CHILD_TABLES, its shallow arrays first', () => {
    // Prepare: a syntax tree's shape, each node holding two arrays of nodes, 8 levels deep
    const node = (levels: number): DuckType => ({
      kind: 'struct',
      fields: [
        ['type', { kind: 'scalar', name: 'VARCHAR' }],
        ...(levels > 0
          ? (['body', 'args'].map((key) => [key, { kind: 'list', element: node(levels - 1) }]) as [
              string,
              DuckType,
            ][])
          : []),
      ],
    });
    const record = node(8) as Extract<DuckType, { kind: 'struct' }>;
    const options = {
      feed: 'ast',
      separator: '_',
      explode: [],
      childTables: true,
      reserved: [],
      registry: [],
    };
    const tables = (table: InferredTable): InferredTable[] =>
      table.children.flatMap(({ table: child }) => [child, ...tables(child)]);

    // Act
    const unbounded = inferredPlan(record, options);
    const depth = tableDepthWithin(unbounded.table);
    const bounded = inferredPlan(record, { ...options, tableDepth: depth as number });

    // Assess: 2 + 4 + … + 256 tables unbounded; levels of 2 … 64 (126) within 150, the arrays
    // of the level below JSON text in their tables
    expect(tables(unbounded.table)).toHaveLength(510);
    expect(tables(bounded.table)).toHaveLength(126);
    expect(tables(bounded.table).length).toBeLessThanOrEqual(MAX_CHILD_TABLES);
    const deepest = tables(bounded.table).filter((table) => table.children.length === 0);
    expect(deepest).toHaveLength(64);
    expect(deepest[0]?.checked.map((leaf) => leaf.name)).toEqual(['body', 'args']);
    expect(tableDepthWithin(bounded.table)).toBeUndefined();
  });
});
