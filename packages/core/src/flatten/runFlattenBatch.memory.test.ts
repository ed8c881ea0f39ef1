import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbEngine } from '../engine/index.js';
import type { FlatColumn } from './flattenPlan.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions } from './types.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

/** Flattens objects as a batch of their own, DuckDB held to `memoryLimit` on one thread. */
const flattenWithin = (
  memoryLimit: string,
  batch: { feed: string; objects: { key: string; size: number }[]; threads?: number },
  options: Partial<FlattenBatchOptions> = {}
) =>
  DuckDbEngine.use({ threads: batch.threads ?? 1, memoryLimit }, (engine) =>
    runFlattenBatch(
      { feed: batch.feed, batchId: `${batch.feed}-1`, objects: batch.objects },
      {
        store: lake.store,
        engine,
        ledger: lake.ledger,
        options: {
          separator: '_',
          maxDepth: 3,
          partition: { date: 'DATE', mode: 'MODE' },
          leaveInPlace: true,
          ...options,
        },
      }
    )
  );

describe('Function: runFlattenBatch (memory)', () => {
  it('fails a batch that cannot fit in DuckDB’s memory limit with Strata.Terminal, and marks its objects FAILED with why', async () => {
    // Prepare: a record of 30 MB, more than a 16 MB limit can hold
    const key = 'raw/memory/big.jsonl';
    const body = `${JSON.stringify({ id: 1, pad: 'x'.repeat(30e6) })}\n{"id":2}\n`;
    await lake.store.put(key, body);

    // Act
    const error = await flattenWithin('16MB', {
      feed: 'memory',
      objects: [{ key, size: body.length }],
    }).then(
      () => undefined,
      (rejected: unknown) => rejected as Error
    );

    // Assess
    expect(error?.name).toBe('Strata.Terminal');
    expect(error?.message).toMatch(/^out of memory: .*memory_limit of 15\.2 MiB/);
    expect((await lake.ledger.getMany([key])).get(key)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/^Strata\.Terminal: out of memory/),
    });
  });

  it('reads wide records DuckDB’s reader cannot take (keys that differ only in case) from one parse a row, within 400 MB', async () => {
    // Prepare: Lighthouse's message catalogs' shape, 20 of 90 KB: 400 message ids, two of which
    // differ only in case, so every line goes line by line and is read from its JSON text
    const key = 'raw/catalogs/locales.jsonl';
    const record = (r: number) => ({
      DATE: '2024-01-02',
      MODE: 'web',
      ...Object.fromEntries(
        Array.from({ length: 400 }, (_, i) => [
          i === 0 ? 'FullScreen' : i === 1 ? 'Fullscreen' : `core/audits/a${i}.js | title`,
          { message: `${r}:${'m'.repeat(200)}` },
        ])
      ),
    });
    const body = `${Array.from({ length: 20 }, (_, r) => JSON.stringify(record(r))).join('\n')}\n`;
    await lake.store.put(key, body);

    // Act
    const result = await flattenWithin('400MB', {
      feed: 'catalogs',
      objects: [{ key, size: body.length }],
    });

    // Assess
    expect(result).toMatchObject({ rowsWritten: 20, recordsQuarantined: 0 });
  });

  it('fails a map-shaped batch whose maps do not fit in memory with Strata.Terminal naming its tables', async () => {
    // Prepare: 5 records of 50,000 names each, 12 MB of JSON, within 16 MB
    const key = 'raw/big_map/map.jsonl';
    const record = (r: number) => ({
      DATE: '2024-01-02',
      MODE: 'web',
      id: r,
      names: Object.fromEntries(
        Array.from({ length: 50_000 }, (_, i) => [`name_${r}_${i}`, { label: `label ${i}`, n: i }])
      ),
    });
    const body = `${[0, 1, 2, 3, 4].map((r) => JSON.stringify(record(r))).join('\n')}\n`;
    await lake.store.put(key, body);

    // Act
    const error = await flattenWithin(
      '16MB',
      { feed: 'big_map', objects: [{ key, size: body.length }] },
      { infer: 'always' }
    ).then(
      () => undefined,
      (rejected: unknown) => rejected as Error
    );

    // Assess
    expect(error?.name).toBe('Strata.Terminal');
    expect(error?.message).toMatch(
      /^flatten-batch big_map-1: (reading big_map's records for its \d+ planned columns in 2 table\(s\), its maps typed in Node|writing big_map(__names)?'s \d+ columns): out of memory: .*memory_limit of 15\.2 MiB/
    );
  });

  it('types a map-shaped batch, whose DuckDB inference would not fit in memory, as a key/value child table', async () => {
    // Prepare: 400 records, each naming 10 features of its own with a nested value: 4,000
    // distinct keys under `features`, each a path DuckDB's inference would hold at once
    const key = 'raw/maps/features.jsonl';
    const records = Array.from({ length: 400 }, (_, i) => ({
      DATE: '2024-01-02',
      MODE: 'web',
      id: i,
      features: Object.fromEntries(
        Array.from({ length: 10 }, (_, j) => [
          `feature_${i}_${j}`,
          { support: { chrome: { added: `${j}` }, firefox: { added: null, notes: ['a', 'b'] } } },
        ])
      ),
    }));
    const body = records.map((record) => JSON.stringify(record)).join('\n');
    await lake.store.put(key, body);

    // Act
    const result = await flattenWithin(
      '48MB',
      { feed: 'maps', objects: [{ key, size: body.length }] },
      { infer: 'always' }
    );

    // Assess: every record written, each feature an entry of the map's child table, its
    // value's leaves typed columns
    expect(result).toMatchObject({ recordsRead: 400, rowsWritten: 400, recordsQuarantined: 0 });
    expect(result.children.map((c) => [c.dataset, c.rowsWritten])).toEqual([
      ['maps__features', 4000],
    ]);
    const fragment = (name: string) =>
      lake.store
        .get(`_schemas/${name}/fragments/maps-1.json`)
        .then(
          (bytes) =>
            (JSON.parse(new TextDecoder().decode(bytes)) as { columns: FlatColumn[] }).columns
        );
    expect((await fragment('maps')).map((column) => [column.name, column.type])).toEqual([
      ['date', 'VARCHAR'],
      ['mode_2', 'VARCHAR'],
      ['id', 'BIGINT'],
    ]);
    expect((await fragment('maps__features')).map((column) => [column.name, column.type])).toEqual([
      ['_key', 'VARCHAR'],
      ['value_support_chrome_added', 'VARCHAR'],
      ['value_support_firefox_notes', 'VARCHAR[]'],
      ['value_support_firefox_added', 'VARCHAR'],
    ]);
  });

  it('writes a batch of many small pretty-printed documents with 1,000 sparse keys within 1 GB on two threads', async () => {
    // Prepare: 200 package.json-like files, each one document over many lines naming 6 of 1,000
    // dependencies: DuckDB's parallel, order-keeping write prepared a row group of every column
    // for each file (832 such files, 1,691 columns: 367 s and 3.1 GB)
    const objects = [];
    for (let i = 0; i < 200; i++) {
      const key = `raw/packages/p${i}/package.json`;
      const document = {
        name: `p${i}`,
        version: `1.0.${i}`,
        dependencies: Object.fromEntries(
          Array.from({ length: 6 }, (_, j) => [`dep-${(i * 7 + j * 101) % 1000}`, `^${j}.0.0`])
        ),
      };
      const body = JSON.stringify(document, null, 2);
      await lake.store.put(key, body);
      objects.push({ key, size: body.length });
    }

    // Act
    const result = await flattenWithin(
      '1GB',
      { feed: 'packages', objects, threads: 2 },
      { infer: 'never' }
    );

    // Assess
    expect(result).toMatchObject({ recordsRead: 200, rowsWritten: 200, recordsQuarantined: 0 });
  });

  it('bounds a single document of 90,000 leaf paths, no key of it rare, to a plan of child tables', async () => {
    // Prepare: one document as caniuse-db ships its data (4.7 MB, a million leaf paths): 150
    // features, each with a support table of 10 browsers × 60 versions. No object’s keys are
    // rare, so no map was found, and DuckDB's inference and the sampled plan ran out of memory
    const versions = Array.from({ length: 60 }, (_, v) => `${v + 1}.0`);
    const browsers = Array.from({ length: 10 }, (_, b) => `browser${b}`);
    const document = {
      updated: 1700000000,
      data: Object.fromEntries(
        Array.from({ length: 150 }, (_, f) => [
          `feature-${f}`,
          {
            title: `Feature ${f}`,
            stats: Object.fromEntries(
              browsers.map((browser, b) => [
                browser,
                Object.fromEntries(
                  versions.map((version, v) => [version, (f + b + v) % 3 ? 'y' : 'n'])
                ),
              ])
            ),
          },
        ])
      ),
    };
    const key = 'raw/caniuse/data.json';
    const body = JSON.stringify(document, null, 1);
    await lake.store.put(key, body);

    // Act
    const result = await flattenWithin('512MB', {
      feed: 'caniuse',
      objects: [{ key, size: body.length }],
    });

    // Assess: the record written, its feature map a child table, every plan within the bound
    expect(result).toMatchObject({ recordsRead: 1, rowsWritten: 1, recordsQuarantined: 0 });
    const schemas: string[] = [];
    for await (const { key } of lake.store.list('_schemas/caniuse')) schemas.push(key);
    const fragments = await Promise.all(
      schemas
        .filter((k) => k.includes('/fragments/'))
        .map(
          async (k) =>
            JSON.parse(new TextDecoder().decode(await lake.store.get(k))) as { columns: unknown[] }
        )
    );
    const columns = fragments.reduce((n, fragment) => n + fragment.columns.length, 0);
    expect(fragments.length).toBeGreaterThan(1);
    expect(columns).toBeLessThanOrEqual(2000);
  });
});
