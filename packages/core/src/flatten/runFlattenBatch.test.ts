import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type GeneratedBacklog, generateBacklog } from '@strata/local/backlog';
import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder, snapshot } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DynamoDbLedger } from '../adapters/index.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { type PlanBacklogInput, type PlannedBatch, runPlanBacklog } from '../plan-backlog/index.js';
import { readBatchManifest } from './batchManifest.js';
import type { FlatColumn } from './flattenPlan.js';
import { rangeKey } from './lineRange.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions, FlattenBatchResult } from './types.js';

let lake: LocalLake;
let dynamo: LocalDynamoDb;
let ledger: DynamoDbLedger;
let backlog: GeneratedBacklog;
/** The first test's plan, which the retry test replays. */
let planned: PlannedBatch[] = [];

const OPTIONS: FlattenBatchOptions = {
  separator: '_',
  maxDepth: 3,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: false,
};

const PREFIX = 'raw/clickstream/all_historical_files/';

const planOf = async (
  runId: string,
  input: Omit<PlanBacklogInput, 'runId'> = {
    feed: 'clickstream',
    prefix: PREFIX,
    targetBatchBytes: 256 * 1024,
  }
): Promise<PlannedBatch[]> => {
  const plan = await runPlanBacklog(
    { runId, maxFilesPerBatch: 8, ...input },
    { store: lake.store, ledger }
  );
  const body = new TextDecoder().decode(await lake.store.get(plan.manifestKey));
  return body
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PlannedBatch);
};

/** Downloads Parquet objects of the lake as `<name>-<i>.parquet`, quoted for a `read_parquet` list. */
const downloadParts = async (keys: readonly string[], name: string): Promise<string[]> => {
  const files: string[] = [];
  for (const [i, key] of keys.entries()) {
    const local = join(lake.dir, `${name}-${i}.parquet`);
    await lake.store.download(key, local);
    files.push(quoteLiteral(local));
  }
  return files;
};

/** The parts a batch wrote, from its manifest: the feed's, or child table `child`'s. */
const partsOf = async (result: FlattenBatchResult, child?: number): Promise<string[]> => {
  const manifest = await readBatchManifest(lake.store, result.manifestKey);
  return child === undefined ? manifest.outputs : (manifest.children[child]?.outputs ?? []);
};

const flatten = (batch: PlannedBatch) =>
  DuckDbEngine.use({}, (engine) =>
    runFlattenBatch(
      { feed: 'clickstream', ...batch },
      { store: lake.store, engine, ledger, options: OPTIONS }
    )
  );

beforeAll(async () => {
  lake = await startLocalLake();
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'ledger', key: 'object_key' }] });
  ledger = new DynamoDbLedger({ tableName: 'ledger', client: dynamo.client });
  backlog = await generateBacklog({
    store: lake.store,
    targetBytes: 1.5 * 1024 * 1024,
    seed: 3,
    feeds: ['clickstream'],
  });
});

afterAll(async () => {
  await dynamo?.stop();
  await lake?.stop();
});

describe('Function: runFlattenBatch', () => {
  it('flattens the planned backlog into partitioned Parquet and reconciles with the truth', async () => {
    // Prepare
    const truth = backlog.objects.filter((object) => object.key.startsWith(PREFIX));
    const batches = await planOf('flat-1');
    planned = batches;

    // Act
    const results: FlattenBatchResult[] = [];
    for (const batch of batches) results.push(await flatten(batch));

    // Assess
    const sum = (field: 'rowsWritten' | 'recordsQuarantined' | 'recordsRead') =>
      results.reduce((total, result) => total + result[field], 0);
    expect(sum('rowsWritten')).toBe(truth.reduce((total, o) => total + o.records, 0));
    expect(sum('recordsQuarantined')).toBe(truth.reduce((total, o) => total + o.malformed, 0));
    expect(sum('recordsRead')).toBe(sum('rowsWritten') + sum('recordsQuarantined'));
    const entries = await ledger.getMany(truth.map((object) => object.key));
    expect([...entries.values()].every((entry) => entry.status === 'SUCCEEDED')).toBe(true);
    expect(await keysUnder(lake.store, PREFIX)).toEqual([]);

    const parts = (await keysUnder(lake.store, 'silver/clickstream/')).filter((k) =>
      k.endsWith('.parquet')
    );
    expect(
      parts.every((key) =>
        /\/year=\d{4}\/month=\d{2}\/day=\d{2}\/mode=\w+\/part-flat-1-clickstream-\d{6}-\d+\.parquet$/.test(
          key
        )
      )
    ).toBe(true);
    const files = await downloadParts(parts, 'silver');
    const [read] = await DuckDbEngine.use({}, (engine) =>
      engine.all(
        `select count(*) as rows, count(experiments) as with_experiments, count(device_os_version) as with_os_version, count(user_address_geo) as with_geo
         from read_parquet([${files.join(', ')}], union_by_name = true)`
      )
    );
    expect(Number(read?.rows)).toBe(sum('rowsWritten'));
    expect(Number(read?.with_experiments)).toBeGreaterThan(0);
    expect(Number(read?.with_os_version)).toBeGreaterThan(0);
    expect(Number(read?.with_geo)).toBeGreaterThan(0);
  });

  it('rewrites exactly the same output when a finished batch is retried, and plans nothing more', async () => {
    // Prepare
    const before = await snapshot(lake.store, 'silver/clickstream/');
    const [batch] = planned;
    if (!batch) throw new Error('the first test planned no batch');

    // Act: the raw objects are in raw-processed/ by now, where the retry finds them
    const retried = await flatten(batch);
    const replanned = await planOf('flat-2');

    // Assess
    expect(retried.objects).toBe(batch.objects.length);
    expect(await snapshot(lake.store, 'silver/clickstream/')).toEqual(before);
    expect(replanned).toEqual([]);
  });
});

describe('Function: runFlattenBatch (objects outside the feed)', () => {
  it.each([
    ['another feed’s raw object', 'raw/payments/x.jsonl'],
    ['a silver part', 'silver/guarded/x.jsonl'],
    ['a feed whose name starts like it', 'raw/guardedx/x.jsonl'],
    ['a key climbing out of the feed with ..', 'raw/guarded/../payments/y.jsonl'],
    ['a key with a . segment', 'raw/guarded/./z.jsonl'],
  ])('refuses %s with Strata.BadInput and moves nothing', async (_, key) => {
    // Prepare: the object exists, beside one of the feed's own
    const own = 'raw/guarded/own.jsonl';
    await lake.store.put(key, '{"id":1}\n');
    await lake.store.put(own, '{"id":2}\n');
    const before = await snapshot(lake.store, '');

    // Act
    const attempt = DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'guarded',
          batchId: 'guarded-1',
          objects: [
            { key: own, size: 9 },
            { key, size: 9 },
          ],
        },
        { store: lake.store, engine, ledger, options: OPTIONS }
      )
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'Strata.BadInput',
      message: expect.stringContaining('must name an object under raw/guarded/'),
    });
    expect(await snapshot(lake.store, '')).toEqual(before);
    expect(await ledger.getMany([own, key])).toEqual(new Map());
  });
});

describe('Function: runFlattenBatch (one read or the key pass first)', () => {
  it('writes the same rows, types and quarantine whether or not it lists the keys first', async () => {
    // Prepare: a drifting backlog with gzip, JSON arrays, malformed lines, a truncated gzip and
    // an empty file, under two prefixes, one per way of reading it
    const generated = await generateBacklog({
      store: lake.store,
      targetBytes: 800 * 1024,
      objectBytes: 100 * 1024,
      seed: 11,
      feeds: ['payments'],
    });
    const sources = generated.objects.filter((o) => o.key.includes('/all_historical_files/'));
    const run = async (way: 'one' | 'all') => {
      const objects: { key: string; size: number }[] = [];
      for (const source of sources) {
        const key = source.key.replace('raw/payments/', `raw/equiv/${way}/`);
        await lake.store.put(key, (await lake.store.get(source.key)) ?? new Uint8Array());
        objects.push({ key, size: source.bytes });
      }
      const result = await DuckDbEngine.use({}, (engine) =>
        runFlattenBatch(
          { feed: 'equiv', batchId: `equiv-${way}`, objects },
          {
            store: lake.store,
            engine,
            ledger,
            options: {
              ...OPTIONS,
              leaveInPlace: true,
              keyPass: way === 'all' ? 'always' : 'when-needed',
            },
          }
        )
      );
      const files = await downloadParts(await partsOf(result), `equiv-${way}`);
      const rows = (from: string) =>
        `(select * exclude (_batch_id) replace (replace(_source_key, 'raw/equiv/${way}/', '') as _source_key) from ${from})`;
      const read = `read_parquet([${files.join(', ')}], union_by_name = true, hive_partitioning = false)`;
      const [types, body] = await DuckDbEngine.use({}, async (engine) => [
        await engine.all(
          `select column_name, column_type from (describe ${rows(read)}) order by 1`
        ),
        await engine.all(`select * from ${rows(read)} order by _source_key, _source_line`),
      ]);
      const quarantine = new TextDecoder()
        .decode(await lake.store.get(`quarantine/equiv/batch=equiv-${way}/records.jsonl`))
        .replaceAll(`raw/equiv/${way}/`, '');
      return { result, types, body, quarantine };
    };

    // Act
    const one = await run('one');
    const all = await run('all');

    // Assess
    expect([one.result.keyPass, all.result.keyPass]).toEqual([false, true]);
    expect(one.result.recordsRead).toBe(
      sources.reduce((total, o) => total + o.records + o.malformed, 0)
    );
    expect(one.types).toEqual(all.types);
    expect(one.body).toEqual(all.body);
    expect(one.quarantine).toEqual(all.quarantine);
    expect(one.quarantine).not.toBe('');
  });
});

describe('Function: runFlattenBatch (drift)', () => {
  /** Flattens the given objects of feed `drift` as one batch and reads the rows back. */
  const flattenDrift = async (
    batchId: string,
    files: Record<string, string | Uint8Array>,
    registry?: { columns: FlatColumn[] }
  ) => {
    for (const [name, body] of Object.entries(files))
      await lake.store.put(`raw/drift/${name}`, body);
    if (registry)
      await lake.store.put(`_backfill/drift/${batchId}/schema.json`, JSON.stringify(registry));
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'drift',
          batchId,
          objects: Object.entries(files).map(([name, body]) => ({
            key: `raw/drift/${name}`,
            size: body.length,
          })),
          ...(registry ? { registryKey: `_backfill/drift/${batchId}/schema.json` } : {}),
        },
        { store: lake.store, engine, ledger, options: { ...OPTIONS, leaveInPlace: true } }
      )
    );
    const files_ = await downloadParts(await partsOf(result), batchId);
    const rows = files_.length
      ? await DuckDbEngine.use({}, (engine) =>
          engine.all(
            `select * from read_parquet([${files_.join(', ')}], union_by_name = true) order by _source_key, _source_line`
          )
        )
      : [];
    return { result, rows };
  };

  /** 3,000 records of a large file, a key first seen in record 2,501 (past the sampled head). */
  const lateKeyFile = () =>
    Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({
        id: i,
        DATE: '2024-02-03',
        MODE: 'web',
        user: { name: `u${i}` },
        ...(i === 2500 ? { late: { x: 7 } } : {}),
      })
    ).join('\n');

  it('keeps a field first seen late in a large file, and a field of another kind in the next file', async () => {
    // Prepare: the late key is past the sampled head
    const odd = `${JSON.stringify({ id: 'a', DATE: '2024-02-04', MODE: 'ios', user: { name: 'anonymous' } })}\n`;

    // Act
    const { result, rows } = await flattenDrift('drift-1', {
      'big.jsonl': lateKeyFile(),
      'odd.jsonl': odd,
    });

    // Assess: the sampled plan's read refused the late key; the key pass wrote it
    expect(result).toMatchObject({
      recordsRead: 3001,
      rowsWritten: 3001,
      recordsQuarantined: 0,
      keyPass: true,
    });
    // id was a number in one file and text in the other: a column per kind
    expect(rows.filter((row) => row.late_x !== null)).toMatchObject([
      { id: null, id__v_bigint: '2500', late_x: '7', _source_line: '2501' },
    ]);
    expect(rows.find((row) => row._source_key === 'raw/drift/odd.jsonl')).toMatchObject({
      id: 'a',
      user_name: 'anonymous',
      mode_2: 'ios',
      _source_line: '1',
    });
    expect(await partsOf(result)).toEqual([
      'silver/drift/year=2024/month=02/day=03/mode=web/part-drift-1-0.parquet',
      'silver/drift/year=2024/month=02/day=04/mode=ios/part-drift-1-0.parquet',
    ]);
  });

  it('types the objects of a field that is text in another file, and a field first seen late, by inference', async () => {
    // Prepare: user is an object in one file and text in the other (npm's author)
    const odd = `${JSON.stringify({ id: 'a', DATE: '2024-02-04', MODE: 'ios', user: 'anonymous' })}\n`;

    // Act
    const { result, rows } = await flattenDrift('drift-3', {
      'big-3.jsonl': lateKeyFile(),
      'odd-3.jsonl': odd,
    });

    // Assess: DuckDB's inference read every record, the late key too, with no key pass
    expect(result).toMatchObject({
      recordsRead: 3001,
      rowsWritten: 3001,
      recordsQuarantined: 0,
      keyPass: false,
    });
    expect(rows.filter((row) => row.late_x !== null)).toMatchObject([
      { id: null, id__v_bigint: '2500', late_x: '7', _source_line: '2501' },
    ]);
    // The text in user, the objects' fields in their columns (the sampled plan kept the
    // objects whole, as JSON, in user__v_json)
    expect(rows.find((row) => row._source_key === 'raw/drift/odd-3.jsonl')).toMatchObject({
      id: 'a',
      user: 'anonymous',
      user_name: null,
      mode_2: 'ios',
      _source_line: '1',
    });
    expect(rows[0]).toMatchObject({ user: null, user_name: 'u0' });
    expect(rows.some((row) => 'user__v_json' in row)).toBe(false);
    expect(await partsOf(result)).toEqual([
      'silver/drift/year=2024/month=02/day=03/mode=web/part-drift-3-0.parquet',
      'silver/drift/year=2024/month=02/day=04/mode=ios/part-drift-3-0.parquet',
    ]);
  });

  it('keeps writing the objects of a field of several kinds to the JSON column the registry holds them in', async () => {
    // Prepare: an earlier batch's sampled plan kept user's objects whole in user__v_json
    const registry = {
      columns: [
        { name: 'user', path: '$."user"', type: 'VARCHAR' as const },
        { name: 'user__v_json', path: '$."user"', type: 'JSON' as const, variant: 'json' as const },
      ],
    };
    const body = [
      { id: 1, DATE: '2024-02-05', user: 'anonymous' },
      { id: 2, DATE: '2024-02-05', user: { name: 'u2' } },
    ]
      .map((record) => JSON.stringify(record))
      .join('\n');

    // Act
    const { result, rows } = await flattenDrift('drift-4', { 'kept.jsonl': body }, registry);

    // Assess: no column changes type, none is added for the objects' fields
    expect(result).toMatchObject({ rowsWritten: 2, recordsQuarantined: 0 });
    expect(rows.map(({ user, user__v_json }) => [user, user__v_json])).toEqual([
      ['anonymous', null],
      [null, '{"name":"u2"}'],
    ]);
    expect(rows.some((row) => 'user_name' in row)).toBe(false);
  });

  /** The batch's quarantined lines, as Reconcile and an engineer read them. */
  const quarantined = async (batchId: string) => {
    const body = await lake.store.get(`quarantine/drift/batch=${batchId}/records.jsonl`);
    return new TextDecoder()
      .decode(body)
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };

  it('leaves out the lines of a file that hold no record, numbering the others by their lines', async () => {
    // Prepare: before and after the file with rejected lines, clean files read in the same pass
    const record = (id: number) =>
      JSON.stringify({ id, DATE: '2024-03-01', MODE: 'web', user: { name: `u${id}` } });
    const files = {
      'a.jsonl': `${record(1)}\n${record(2)}\n`,
      'b.jsonl': [record(3), '{"id": 4, "user": {', record(5), '[6]', record(7), 'null'].join('\n'),
      'c.jsonl': `${record(8)}\n`,
    };

    // Act
    const { result, rows } = await flattenDrift('masked-1', files);

    // Assess
    // Node saw those lines cannot be objects: the batch is written in one read
    expect(result).toMatchObject({
      recordsRead: 9,
      rowsWritten: 6,
      recordsQuarantined: 3,
      keyPass: false,
    });
    expect(rows.map((row) => [row._source_key, row._source_line, row.id, row.user_name])).toEqual([
      ['raw/drift/a.jsonl', '1', '1', 'u1'],
      ['raw/drift/a.jsonl', '2', '2', 'u2'],
      ['raw/drift/b.jsonl', '1', '3', 'u3'],
      ['raw/drift/b.jsonl', '3', '5', 'u5'],
      ['raw/drift/b.jsonl', '5', '7', 'u7'],
      ['raw/drift/c.jsonl', '1', '8', 'u8'],
    ]);
    expect(await quarantined('masked-1')).toEqual([
      {
        file: 'raw/drift/b.jsonl',
        line: 2,
        error: 'not valid JSON',
        text: '{"id": 4, "user": {',
      },
      { file: 'raw/drift/b.jsonl', line: 4, error: 'not a JSON object', text: '[6]' },
      // DuckDB's reader would take a null line for a row of nulls: Node's scan masks it.
      { file: 'raw/drift/b.jsonl', line: 6, error: 'not a JSON object', text: 'null' },
    ]);
  });

  it('writes JSON array files in the one read, each element numbered in its file, when the sample shows their keys', async () => {
    // Prepare: JSON Lines around two arrays, one of them written over many lines
    const record = (id: number) => ({
      id,
      DATE: '2024-03-07',
      MODE: 'web',
      user: { name: `u${id}` },
    });
    const files = {
      'arrays-a.jsonl': `${JSON.stringify(record(1))}\n`,
      'arrays-b.json': JSON.stringify([record(2), record(3), record(4)]),
      'arrays-c.json': JSON.stringify([record(5), record(6)], null, 2),
    };

    // Act
    const { result, rows } = await flattenDrift('arrays-1', files);

    // Assess
    expect(result).toMatchObject({ recordsRead: 6, rowsWritten: 6, keyPass: false });
    expect(rows.map((row) => [row._source_key, row._source_line, row.id, row.user_name])).toEqual([
      ['raw/drift/arrays-a.jsonl', '1', '1', 'u1'],
      ['raw/drift/arrays-b.json', '1', '2', 'u2'],
      ['raw/drift/arrays-b.json', '2', '3', 'u3'],
      ['raw/drift/arrays-b.json', '3', '4', 'u4'],
      ['raw/drift/arrays-c.json', '1', '5', 'u5'],
      ['raw/drift/arrays-c.json', '2', '6', 'u6'],
    ]);
  });

  it('lists every key when a JSON array holds one past the records its sample took', async () => {
    // Prepare: 1,200 elements, keys nested and top-level only in the last one
    const records: Record<string, unknown>[] = Array.from({ length: 1200 }, (_, i) => ({
      id: i,
      DATE: '2024-03-07',
      MODE: 'web',
      user: { name: `u${i}` },
    }));
    records[1199] = { ...records[1199], late: 'kept', user: { name: 'u1199', age: 41 } };

    // Act
    const { result, rows } = await flattenDrift('arrays-2', {
      'arrays-late.json': JSON.stringify(records),
    });

    // Assess: the one read refused the keys it was not given; the key pass wrote them
    expect(result).toMatchObject({ recordsRead: 1200, rowsWritten: 1200, keyPass: true });
    expect(rows.at(-1)).toMatchObject({ _source_line: '1200', late: 'kept', user_age: '41' });
  });

  it('quarantines the element of a JSON array that is no object, never a row of nulls', async () => {
    // Prepare
    const record = (id: number) => ({ id, DATE: '2024-03-07', MODE: 'web' });
    const body = JSON.stringify([record(1), null, record(3)]);

    // Act
    const { result, rows } = await flattenDrift('arrays-3', { 'arrays-nulls.json': body });

    // Assess
    expect(result).toMatchObject({ rowsWritten: 2, recordsQuarantined: 1 });
    expect(rows.map((row) => row.id)).toEqual(['1', '3']);
    expect(await quarantined('arrays-3')).toMatchObject([
      { file: 'raw/drift/arrays-nulls.json', error: 'not a JSON object', text: 'null' },
    ]);
  });

  it('fails with Strata.Terminal naming the full disk, rather than read the batch again', async () => {
    // Prepare: the first COPY fails as a full /tmp makes DuckDB fail
    const body = `${JSON.stringify({ id: 1, DATE: '2024-03-07', MODE: 'web' })}\n`;
    await lake.store.put('raw/drift/full-disk.jsonl', body);
    const copies: string[] = [];

    // Act
    const attempt = DuckDbEngine.use({}, (engine) => {
      const run = engine.run.bind(engine);
      engine.run = async (sql) => {
        if (sql.includes('copy (')) {
          copies.push(sql);
          throw new Error(
            'IO Error: Could not write file "part-0.parquet": No space left on device'
          );
        }
        return run(sql);
      };
      return runFlattenBatch(
        {
          feed: 'drift',
          batchId: 'full-disk',
          objects: [{ key: 'raw/drift/full-disk.jsonl', size: body.length }],
        },
        { store: lake.store, engine, ledger, options: { ...OPTIONS, leaveInPlace: true } }
      );
    });

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'Strata.Terminal',
      message: expect.stringContaining('disk full: no space left on the disk holding'),
    });
    expect(copies).toHaveLength(1);
    const [entry] = (await ledger.getMany(['raw/drift/full-disk.jsonl'])).values();
    expect(entry).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/^Strata\.Terminal: disk full/),
    });
  });

  it('reads a record after a byte order mark or a form feed, as DuckDB does', async () => {
    // Prepare: a byte order mark as Windows tools write UTF-8
    const record = (id: number) =>
      JSON.stringify({ id, DATE: '2024-03-05', MODE: 'web', user: { name: `u${id}` } });
    const body = `\uFEFF${record(1)}\n\f${record(2)}\n`;

    // Act
    const { result, rows } = await flattenDrift('bom-1', { 'bom.jsonl': body });

    // Assess
    expect(result).toMatchObject({ rowsWritten: 2, recordsQuarantined: 0, keyPass: false });
    expect(rows.map((row) => [row._source_line, row.id, row.user_name])).toEqual([
      ['1', '1', 'u1'],
      ['2', '2', 'u2'],
    ]);
  });

  it('quarantines a masked file once when the fast reader turns it down after all', async () => {
    // Prepare: DuckDB's reader refuses a record with a key twice, which its line reader took
    const lines = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ id: i, DATE: '2024-03-02', MODE: 'ios', user: { name: `u${i}` } })
    );
    lines[20] = '{"id": 20, "DATE": "2024-03-02", "MODE": "ios", "MODE": "ios"}';
    lines.splice(1, 0, '{"id":');

    // Act
    const { result, rows } = await flattenDrift('masked-2', { 'twice.jsonl': lines.join('\n') });

    // Assess: the record with a key twice is quarantined whole, as the slow path does
    expect(result).toMatchObject({
      recordsRead: 31,
      rowsWritten: 29,
      recordsQuarantined: 2,
      keyPass: true,
    });
    expect(await quarantined('masked-2')).toEqual([
      { file: 'raw/drift/twice.jsonl', line: 2, error: 'not valid JSON', text: '{"id":' },
      {
        file: 'raw/drift/twice.jsonl',
        line: 22,
        error: 'a key appears twice in one object',
        text: lines[21],
      },
    ]);
    expect(rows.find((row) => row.id === '21')).toMatchObject({ _source_line: '23' });
  });

  it('keeps a scalar where the other records of a large file hold an object', async () => {
    // Prepare: one string among 3,000 objects at the same key
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({
        id: i,
        DATE: '2024-03-03',
        MODE: 'web',
        user: i === 2997 ? 'anonymous' : { name: `u${i}` },
      })
    );

    // Act
    const { result, rows } = await flattenDrift('late-scalar', { 'late.jsonl': lines.join('\n') });

    // Assess
    expect(result).toMatchObject({ rowsWritten: 3000, recordsQuarantined: 0 });
    // The sample holds line 2998: the text in user, the objects' fields in their columns
    expect(rows.find((row) => row.id === '2997')).toMatchObject({
      user: 'anonymous',
      user_name: null,
    });
    expect(rows.find((row) => row.id === '5')).toMatchObject({ user: null, user_name: 'u5' });
  });

  it('quarantines a file no reader can take as the object it was, with a sidecar naming why', async () => {
    // Prepare: a gzip cut short, and a whole gzip whose JSON array breaks off
    const cut = gzipSync(Buffer.from('{"id":1}\n'.repeat(500)));
    const files: Record<string, Uint8Array> = {
      'cut.jsonl.gz': cut.subarray(0, cut.length / 2),
      'broken.json.gz': gzipSync(Buffer.from('[{"id":1},{"id":')),
      'fine.jsonl': Buffer.from('{"id":3,"DATE":"2024-03-04","MODE":"web"}\n'),
    };

    // Act
    const { result } = await flattenDrift('whole-1', files);

    // Assess
    expect(result).toMatchObject({ recordsRead: 3, rowsWritten: 1, recordsQuarantined: 2 });
    for (const name of ['cut.jsonl.gz', 'broken.json.gz']) {
      const kept = await lake.store.get(`quarantine/drift/batch=whole-1/files/${name}`);
      expect(Buffer.from(kept ?? [])).toEqual(Buffer.from(files[name] ?? []));
      const sidecar = await lake.store.get(
        `quarantine/drift/batch=whole-1/files/${name}.error.json`
      );
      expect(JSON.parse(new TextDecoder().decode(sidecar))).toMatchObject({
        file: `raw/drift/${name}`,
        batchId: 'whole-1',
      });
    }
  });

  it('quarantines two unreadable files with one base name under keys of their own', async () => {
    // Prepare: two different gzips cut short, both named part.jsonl.gz, in two folders
    const cut = (n: number) => {
      const whole = gzipSync(Buffer.from(`{"id":${n}}\n`.repeat(500)));
      return whole.subarray(0, whole.length / 2);
    };
    const files: Record<string, Uint8Array> = {
      'week01/part.jsonl.gz': cut(1),
      'week02/part.jsonl.gz': cut(2),
    };

    // Act
    const { result } = await flattenDrift('same-name-1', files);

    // Assess
    expect(result).toMatchObject({ recordsRead: 2, recordsQuarantined: 2 });
    for (const name of Object.keys(files)) {
      const kept = await lake.store.get(`quarantine/drift/batch=same-name-1/files/${name}`);
      expect(Buffer.from(kept ?? [])).toEqual(Buffer.from(files[name] ?? []));
      const sidecar = await lake.store.get(
        `quarantine/drift/batch=same-name-1/files/${name}.error.json`
      );
      expect(JSON.parse(new TextDecoder().decode(sidecar))).toMatchObject({
        file: `raw/drift/${name}`,
      });
    }
  });

  it('flattens records whose fields are named like the reader columns but for case', async () => {
    // Prepare: DuckDB's names are case-insensitive, so File_Index hides its file number too
    const record = (n: number) =>
      JSON.stringify({ DATE: '2024-07-02', File_Index: 7, __Strata_File: n, Id: n });

    // Act
    const { result, rows } = await flattenDrift('drift-3b', {
      'cased-a.jsonl': `${record(1)}\n`,
      'cased-b.jsonl': `${record(2)}\n${record(3)}\n`,
    });

    // Assess
    expect(result.rowsWritten).toBe(3);
    expect(rows.map((row) => [row._source_key, row._source_line, row.id, row.file_index])).toEqual([
      ['raw/drift/cased-a.jsonl', '1', '1', '7'],
      ['raw/drift/cased-b.jsonl', '1', '2', '7'],
      ['raw/drift/cased-b.jsonl', '2', '3', '7'],
    ]);
  });

  it('flattens records whose fields are named like the reader columns', async () => {
    // Prepare: file_index hides DuckDB's own file number, so rows find their file by path
    const record = (n: number) =>
      JSON.stringify({
        DATE: '2024-07-01',
        filename: 'x.csv',
        file_index: 7,
        __strata_row: 9,
        __strata_file: n,
        __strata_path: 'p',
        _rn: 1,
      });

    // Act
    const { result, rows } = await flattenDrift('drift-3', {
      'names-a.jsonl': `${record(1)}\n`,
      'names-b.jsonl': `${record(2)}\n${record(3)}\n`,
    });

    // Assess
    expect(result.rowsWritten).toBe(3);
    expect(
      rows.map((row) => [row._source_key, row._source_line, row.strata_file, row.file_index])
    ).toEqual([
      ['raw/drift/names-a.jsonl', '1', '1', '7'],
      ['raw/drift/names-b.jsonl', '1', '2', '7'],
      ['raw/drift/names-b.jsonl', '2', '3', '7'],
    ]);
    expect(rows[0]).toMatchObject({
      filename: 'x.csv',
      strata_row: '9',
      strata_path: 'p',
      rn: '1',
    });
  });

  it.each([
    ['a string among numbers', { n: '12' }, { n: '"12"', r: '1' }, { n: '1' }],
    ['a double among integers', { r: 2.5 }, { n: '1', r: 2.5 }, { r: 1 }],
    ['a value where the sample saw nulls', { f: true }, { n: '1', r: '1', f: true }, { f: null }],
  ])('types a field by every value, not the sample, when the sample misses %s', async (...row) => {
    // Prepare: 30,000 lines of 100 bytes; the sample is the first ten and every 30th line, so
    // no sample sees the lines 15 past one of those, where the odd values are
    const [, odd, expected, usual] = row;
    const lines = Array.from({ length: 30_000 }, (_, i) =>
      JSON.stringify({
        id: i,
        DATE: '2024-03-04',
        MODE: 'web',
        n: 1,
        r: 1,
        ...('f' in odd ? { f: null } : {}),
        ...(i % 30 === 15 && i > 20_000 ? odd : {}),
      }).padEnd(99)
    );
    const name = `odd-${Object.keys(odd).join('')}`;

    // Act
    const { result, rows } = await flattenDrift(name, { [`${name}.jsonl`]: lines.join('\n') });

    // Assess: as the key pass types them, and no value left over in _variant
    expect(result).toMatchObject({ rowsWritten: 30_000, recordsQuarantined: 0, keyPass: true });
    expect(rows.find((r) => r.id === '20025')).toMatchObject({ ...expected, _variant: null });
    expect(rows.find((r) => r.id === '3')).toMatchObject({ ...usual, _variant: null });
    expect(rows.filter((r) => r._variant !== null)).toEqual([]);
  });

  it('types a new column DOUBLE for 1.0 among integers past the sample, as the key pass does', async () => {
    // Prepare: 1.0 is an integer's value but a double's kind, on lines no sample takes
    const lines = Array.from({ length: 30_000 }, (_, i) =>
      JSON.stringify({ id: i, DATE: '2024-03-06', MODE: 'web', n: 1 })
        .replace('"n":1', i % 30 === 15 && i > 20_000 ? '"n":1.0' : '"n":1')
        .padEnd(99)
    );

    // Act
    const { result, rows } = await flattenDrift('odd-n-double', {
      'odd-n-double.jsonl': lines.join('\n'),
    });

    // Assess
    expect(result).toMatchObject({ rowsWritten: 30_000, keyPass: true });
    expect(rows.find((r) => r.id === '20025')).toMatchObject({ n: 1, _variant: null });
    expect(rows.find((r) => r.id === '3')).toMatchObject({ n: 1, _variant: null });
  });

  it('writes the registered type of a known column and keeps values that do not fit in _variant', async () => {
    // Prepare
    const registry = {
      columns: [
        { name: 'amount', path: '$."amount"', type: 'BIGINT' as const },
        { name: 'flag', path: '$."flag"', type: 'BOOLEAN' as const },
      ],
    };
    const body = [
      { DATE: '2024-03-01', amount: 5, flag: true, extra: 'x' },
      { DATE: '2024-03-01', amount: 5.5, flag: 1 },
      { DATE: 'not a date', amount: 'N/A', flag: false },
    ]
      .map((record) => JSON.stringify(record))
      .join('\n');

    // Act
    const { result, rows } = await flattenDrift('drift-2', { 'typed.jsonl': body }, registry);

    // Assess
    expect(
      rows.map(({ amount, flag, extra, _variant }) => ({ amount, flag, extra, _variant }))
    ).toEqual([
      { amount: '5', flag: true, extra: 'x', _variant: null },
      { amount: null, flag: null, extra: null, _variant: '[{"amount":5.5},{"flag":1}]' },
      { amount: null, flag: false, extra: null, _variant: '[{"amount":"N/A"}]' },
    ]);
    expect(rows.map((row) => row.date)).toEqual(['2024-03-01', '2024-03-01', 'not a date']);
    // Values that do not fit a registered column do not need the key pass: they would not widen it
    expect(result.keyPass).toBe(false);
  });

  /** The records as JSON Lines, and again with a blank line inside, which sends them line by line. */
  const bothPaths = (name: string, records: readonly object[]) => {
    const lines = records.map((record) => JSON.stringify(record));
    return {
      [`${name}-fast.jsonl`]: `${lines.join('\n')}\n`,
      [`${name}-slow.jsonl`]: `${lines.join('\n\n')}\n`,
    };
  };

  it('keeps a string in a registered number or boolean column in _variant, as it was, on both paths', async () => {
    // Prepare: strings that a cast from text would take for numbers and booleans
    const registry = {
      columns: [
        { name: 'n', path: '$."n"', type: 'BIGINT' as const },
        { name: 'x', path: '$."x"', type: 'DOUBLE' as const },
        { name: 'ok', path: '$."ok"', type: 'BOOLEAN' as const },
      ],
    };
    const records = [
      { DATE: '2024-05-06', MODE: 'web', n: 5, x: 1.5, ok: true },
      { DATE: '2024-05-06', MODE: 'web', n: '5', x: 'NaN', ok: 'true' },
      { DATE: '2024-05-06', MODE: 'web', n: 7, x: ' 7 ', ok: false },
      { DATE: '2024-05-06', MODE: 'web', n: -0, x: '1e5', ok: null },
    ];

    // Act
    const { result, rows } = await flattenDrift('kinds-1', bothPaths('kinds', records), registry);

    // Assess
    expect(result).toMatchObject({ rowsWritten: 8, recordsQuarantined: 0 });
    const expected = [
      [5, 1.5, true, null],
      [null, null, null, '[{"n":"5"},{"x":"NaN"},{"ok":"true"}]'],
      [7, null, false, '[{"x":" 7 "}]'],
      [0, null, null, '[{"x":"1e5"}]'],
    ];
    expect(
      rows.map((row) => [row.n === null ? null : Number(row.n), row.x, row.ok, row._variant])
    ).toEqual([...expected, ...expected]);
    // A number past DOUBLE's range is kept as written, not as Infinity
    const huge = await flattenDrift(
      'kinds-2',
      { 'kinds-huge.jsonl': '{"DATE":"2024-05-06","MODE":"web","x":1e400}\n' },
      registry
    );
    expect(huge.rows.map((row) => [row.x, row._variant])).toEqual([[null, '[{"x":1e400}]']]);
  });

  it('keeps the values of keys with control characters, and objects holding a key no JSON path reaches', async () => {
    // Prepare: a newline and a tab in keys; an empty key and a "*" (a wildcard to JSON paths)
    const records = [1, 2].map((n) => ({
      DATE: '2024-05-06',
      MODE: 'web',
      'a\nb': `v${n}`,
      'c\td': { e: n },
      odd: { '': n, '*': -n, f: 'x' },
    }));

    // Act
    const { result, rows } = await flattenDrift('keys-1', bothPaths('keys', records));

    // Assess
    expect(result).toMatchObject({ rowsWritten: 4, recordsQuarantined: 0 });
    expect(rows.map((row) => [row.a_b, Number(row.c_d_e), JSON.parse(String(row.odd))])).toEqual(
      [1, 2, 1, 2].map((n) => [`v${n}`, n, { '': n, '*': -n, f: 'x' }])
    );
  });

  it('quarantines the records holding a top-level key no JSON path reaches, and lands their neighbours', async () => {
    // Prepare
    const records = [
      { DATE: '2024-05-06', MODE: 'web', a: 1 },
      { DATE: '2024-05-06', MODE: 'web', '*': 1 },
      { DATE: '2024-05-06', MODE: 'web', '': 2, a: 2 },
    ];

    // Act
    const { result, rows } = await flattenDrift('keys-2', {
      'keys-star.jsonl': `${records.map((r) => JSON.stringify(r)).join('\n')}\n`,
      'keys-plain.jsonl': `${JSON.stringify({ DATE: '2024-05-06', MODE: 'web', a: 3 })}\n`,
    });
    const quarantined = new TextDecoder()
      .decode(await lake.store.get('quarantine/drift/batch=keys-2/records.jsonl'))
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { file: string; line: number; error: string; text: string }
      );

    // Assess
    expect(result).toMatchObject({ rowsWritten: 2, recordsQuarantined: 2, recordsRead: 4 });
    expect(rows.map((row) => [row._source_key, Number(row.a)])).toEqual([
      ['raw/drift/keys-plain.jsonl', 3],
      ['raw/drift/keys-star.jsonl', 1],
    ]);
    expect(quarantined.map((q) => [q.line, q.error, JSON.parse(q.text)])).toEqual([
      [2, expect.stringContaining('a top-level key no JSON path reaches'), records[1]],
      [3, expect.stringContaining('a top-level key no JSON path reaches'), records[2]],
    ]);
  });

  it('keeps filling a column registered under the older path of a key with a control character', async () => {
    // Prepare: registries written before paths kept control characters held them escaped
    const registry = { columns: [{ name: 'a_b', path: '$."a\\nb"', type: 'BIGINT' as const }] };
    const records = [1, 2].map((n) => ({ DATE: '2024-05-06', MODE: 'web', 'a\nb': n }));

    // Act
    const { result, rows } = await flattenDrift(
      'oldpath-1',
      bothPaths('oldpath', records),
      registry
    );

    // Assess
    expect(rows.map((row) => Number(row.a_b))).toEqual([1, 2, 1, 2]);
    const fragment = JSON.parse(
      new TextDecoder().decode(await lake.store.get(result.schemaKey))
    ) as { columns: FlatColumn[] };
    expect(
      fragment.columns.filter((column) => column.name.startsWith('a_b') || column.name === 'anb')
    ).toEqual([{ name: 'a_b', path: '$."a\nb"', type: 'BIGINT' }]);
  });

  it('flattens top-level keys that are no SQL names, in one read and line by line', async () => {
    // Prepare: a hyphen, a space, a leading digit, a letter outside ASCII, 300 characters
    const long = 'k'.repeat(300);
    const records = [1, 2].map((n) => ({
      DATE: '2024-05-06',
      MODE: 'web',
      'user-agent': `ua${n}`,
      'a b': n,
      '1st': n === 1,
      café: 'x',
      [long]: n,
    }));

    // Act
    const { result, rows } = await flattenDrift('names-1', bothPaths('names', records));

    // Assess
    expect(result).toMatchObject({ recordsRead: 4, rowsWritten: 4, recordsQuarantined: 0 });
    expect(
      rows.map((row) => [
        row.user_agent,
        Number(row.a_b),
        row._1st,
        row.caf,
        Number(row['k'.repeat(240)]),
      ])
    ).toEqual([
      ['ua1', 1, true, 'x', 1],
      ['ua2', 2, false, 'x', 2],
      ['ua1', 1, true, 'x', 1],
      ['ua2', 2, false, 'x', 2],
    ]);
    // Alone, the file with no blank line is written in one read
    const alone = await flattenDrift('names-2', {
      'names-alone.jsonl': records.map((record) => JSON.stringify(record)).join('\n'),
    });
    expect(alone.result).toMatchObject({ rowsWritten: 2, keyPass: false });
    expect(alone.rows.map((row) => [row.user_agent, row._1st])).toEqual([
      ['ua1', true],
      ['ua2', false],
    ]);
  });

  it('keeps both of two top-level keys that differ only in case', async () => {
    // Prepare
    const records = [
      { DATE: '2024-05-06', MODE: 'web', Id: 1, id: 2 },
      { DATE: '2024-05-06', MODE: 'web', id: 3 },
    ];

    // Act
    const { result, rows } = await flattenDrift('case-1', bothPaths('case', records));

    // Assess
    expect(result).toMatchObject({ recordsRead: 4, rowsWritten: 4, recordsQuarantined: 0 });
    expect(
      rows.map((row) => [row.id, row.id_2].map((v) => (v === null ? null : Number(v))))
    ).toEqual([
      [1, 2],
      [null, 3],
      [1, 2],
      [null, 3],
    ]);
  });

  it('partitions each record by its own date and mode, whatever kinds other records hold there', async () => {
    // Prepare: a number where the other modes are text, an object where the other dates are
    const records = [
      { DATE: '2024-05-06', MODE: 'web', n: 1 },
      { DATE: '2024-05-07', MODE: 5, n: 2 },
      { DATE: { on: '2024-05-08' }, MODE: 'ios', n: 3 },
    ];

    // Act
    const { result } = await flattenDrift('parts-1', bothPaths('parts', records));

    // Assess: each partition holds that record from both files
    const partitions = (await partsOf(result)).map((key) => key.split('/').slice(2, 6).join('/'));
    expect(partitions.sort()).toEqual([
      'year=2024/month=05/day=06/mode=web',
      'year=2024/month=05/day=07/mode=5',
      'year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__/mode=ios',
    ]);
    expect(result.rowsWritten).toBe(6);
  });

  it('writes a batch whose records hold no key at all', async () => {
    // Act: empty objects, an empty array, and lines that are no records
    const { result, rows } = await flattenDrift('nokeys-1', {
      'nokeys-empty.jsonl': '{}\n{}\n',
      'nokeys-array.json': '[]',
      'nokeys-bad.jsonl': '{"a":\nxx\n',
    });

    // Assess
    expect(result).toMatchObject({ recordsRead: 4, rowsWritten: 2, recordsQuarantined: 2 });
    expect(rows.map((row) => row._source_key)).toEqual([
      'raw/drift/nokeys-empty.jsonl',
      'raw/drift/nokeys-empty.jsonl',
    ]);
    // Each alone in its batch, with what it reads as
    const alone = {
      'nokeys-1.json': ['[]', 0, 0],
      'nokeys-2.jsonl': ['{}\n', 1, 0],
      'nokeys-3.jsonl': ['{"a":\n', 0, 1],
      'nokeys-4.jsonl': ['null\n5\n[1]\n', 0, 3],
      'nokeys-5.json': ['[[{"a":1}]]', 0, 1],
    } as const;
    for (const [i, [name, [body, rowsWritten, recordsQuarantined]]] of Object.entries(
      alone
    ).entries()) {
      const one = await flattenDrift(`nokeys-${i + 2}`, { [name]: body });
      expect({ name, ...one.result }).toMatchObject({ name, rowsWritten, recordsQuarantined });
    }
  });

  it('reads a wide, pretty-printed JSON array as JSON Lines: typed, arrays as child tables', async () => {
    // Prepare: 120 leaf paths a record, an array of objects, line breaks inside each element
    const record = (id: number) => ({
      id,
      DATE: '2024-05-06',
      MODE: 'web',
      wide: Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`f${i}`, i * id])),
      items: [{ sku: `s${id}`, qty: id }],
    });

    // Act
    const { result, rows } = await flattenDrift('array-wide-1', {
      'wide-array.json': JSON.stringify([record(1), record(2), record(3)], null, 2),
    });

    // Assess: as the inferred path writes JSON Lines (an array's keys were listed first, and
    // its arrays kept as JSON text, by the per-column path, which a 2,909-column array outgrew)
    expect(result).toMatchObject({ recordsRead: 3, rowsWritten: 3, keyPass: false });
    expect(result.children).toEqual([expect.objectContaining({ rowsWritten: 3 })]);
    expect(result.typing?.leaves).toMatchObject({ json: 0, variant: 0 });
    expect(rows.map((row) => [row._source_line, row.id, row.wide_f119])).toEqual([
      ['1', '1', '119'],
      ['2', '2', '238'],
      ['3', '3', '357'],
    ]);
  });

  it("numbers an array's elements as its lines, and quarantines one that is no record", async () => {
    // Act
    const { result, rows } = await flattenDrift('array-bad-1', {
      'bad-element.json': '[\n  {"id": 1, "s": "a,]\\"}"},\n  5,\n  {"id": 3}\n]\n',
    });

    // Assess
    expect(result).toMatchObject({ recordsRead: 3, rowsWritten: 2, recordsQuarantined: 1 });
    expect(rows.map((row) => [row._source_line, row.id, row.s])).toEqual([
      ['1', '1', 'a,]"}'],
      ['3', '3', null],
    ]);
    expect(await quarantined('array-bad-1')).toEqual([
      { file: 'raw/drift/bad-element.json', line: 2, error: 'not a JSON object', text: '5' },
    ]);
  });

  it('reads a pretty-printed document as one record next to JSON Lines', async () => {
    // Prepare
    const record = (name: string) => ({ DATE: '2024-05-06', MODE: 'web', user: { name } });

    // Act
    const { result, rows } = await flattenDrift('doc-1', {
      'doc-pretty.json': JSON.stringify(record('pretty'), null, 2),
      'doc-lines.jsonl': `${JSON.stringify(record('line'))}\n`,
    });

    // Assess
    expect(result).toMatchObject({ recordsRead: 2, rowsWritten: 2, recordsQuarantined: 0 });
    expect(rows.map((row) => row.user_name)).toEqual(['line', 'pretty']);
    const alone = await flattenDrift('doc-2', {
      'doc-alone.json': JSON.stringify(record('alone'), null, 2),
    });
    expect(alone.result).toMatchObject({ rowsWritten: 1, recordsQuarantined: 0 });
  });
});

describe('Function: runFlattenBatch (exploded arrays)', () => {
  it('writes configured arrays as child tables, one row per element, linked to their record', async () => {
    // Prepare
    const records = [
      {
        DATE: '2024-05-01',
        MODE: 'web',
        id: 1,
        payload: { items: [{ sku: 'A', qty: 2 }, { sku: 'B' }] },
        tags: ['x', 'y'],
      },
      { DATE: '2024-05-01', MODE: 'web', id: 2, payload: { items: [] }, tags: ['z'] },
      {
        DATE: '2024-05-02',
        MODE: 'ios',
        id: 3,
        payload: { items: [{ sku: 'C', qty: 1, extra: { deep: true } }] },
      },
    ];
    await lake.store.put('raw/boxes/a.jsonl', records.map((r) => JSON.stringify(r)).join('\n'));
    // A second file in the slow path (a blank line between records) explodes the same way.
    await lake.store.put(
      'raw/boxes/b.jsonl',
      `${JSON.stringify({ DATE: '2024-05-02', MODE: 'ios', id: 4, tags: ['w'] })}\n\n{"DATE":"2024-05-02","id":5}\n`
    );

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'boxes',
          batchId: 'boxes-1',
          objects: [
            { key: 'raw/boxes/a.jsonl', size: 1 },
            { key: 'raw/boxes/b.jsonl', size: 1 },
          ],
        },
        {
          store: lake.store,
          engine,
          ledger,
          options: { ...OPTIONS, leaveInPlace: true, explode: [['payload', 'items'], ['tags']] },
        }
      )
    );
    const read = async (outputs: string[], order: string) => {
      const files = await downloadParts(outputs, `boxes-${order.length}`);
      return DuckDbEngine.use({}, (engine) =>
        engine.all(
          `select * exclude (_batch_id, _variant) from read_parquet([${files.join(', ')}], union_by_name = true) order by ${order}`
        )
      );
    };

    // Assess
    expect(result.rowsWritten).toBe(5);
    expect(result.children.map(({ dataset, rowsWritten }) => [dataset, rowsWritten])).toEqual([
      ['boxes__payload_items', 3],
      ['boxes__tags', 4],
    ]);
    const parent = await read(await partsOf(result), '_source_key, _source_line');
    expect(Object.keys(parent[0] ?? {})).not.toContain('payload_items');
    const items = await read(await partsOf(result, 0), '_source_line, _index');
    expect(items).toEqual([
      {
        sku: 'A',
        qty: '2',
        extra_deep: null,
        _source_key: 'raw/boxes/a.jsonl',
        _source_line: '1',
        _index: '1',
      },
      {
        sku: 'B',
        qty: null,
        extra_deep: null,
        _source_key: 'raw/boxes/a.jsonl',
        _source_line: '1',
        _index: '2',
      },
      {
        sku: 'C',
        qty: '1',
        extra_deep: true,
        _source_key: 'raw/boxes/a.jsonl',
        _source_line: '3',
        _index: '1',
      },
    ]);
    const tags = await read(await partsOf(result, 1), '_source_key, _source_line, _index');
    expect(tags.map((row) => [row._source_key, row._source_line, row._index, row.value])).toEqual([
      ['raw/boxes/a.jsonl', '1', '1', 'x'],
      ['raw/boxes/a.jsonl', '1', '2', 'y'],
      ['raw/boxes/a.jsonl', '2', '1', 'z'],
      ['raw/boxes/b.jsonl', '1', '1', 'w'],
    ]);
    expect(
      (await partsOf(result, 1)).every((key) => key.startsWith('silver/boxes__tags/year=2024/'))
    ).toBe(true);
  });
});

describe('Function: runFlattenBatch (elements holding a key no JSON path reaches)', () => {
  it('keeps each such element whole, as the value of its child row', async () => {
    // Prepare
    const lines = [1, 2].map((n) =>
      JSON.stringify({ DATE: '2024-05-03', MODE: 'web', id: n, items: [{ '': n, b: 2 }] })
    );
    await lake.store.put('raw/odd_keys/a.jsonl', lines.join('\n'));

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'odd_keys',
          batchId: 'odd-keys-1',
          objects: [{ key: 'raw/odd_keys/a.jsonl', size: 1 }],
        },
        {
          store: lake.store,
          engine,
          ledger,
          options: { ...OPTIONS, leaveInPlace: true, explode: [['items']] },
        }
      )
    );
    const [child] = result.children;
    const files = await downloadParts(await partsOf(result, 0), 'odd-keys');
    const values = await DuckDbEngine.use({}, (engine) =>
      engine.all(
        `select value::varchar as value from read_parquet([${files.join(', ')}]) order by 1`
      )
    );

    // Assess
    expect(child?.rowsWritten).toBe(2);
    expect(values.map((row) => JSON.parse(String(row.value)))).toEqual([
      { '': 1, b: 2 },
      { '': 2, b: 2 },
    ]);
  });
});

describe('Function: runFlattenBatch (no array at an exploded path)', () => {
  it('keeps an object or a string where the array to explode was in the record, in _variant', async () => {
    // Prepare: 30,000 lines of 100 bytes, the odd values on lines no sample takes (the first
    // ten and every 30th are sampled)
    const odd: Record<number, unknown> = { 20025: { lost: 'VALUE' }, 20055: 'SCALAR', 20085: null };
    const lines = Array.from({ length: 30_000 }, (_, i) =>
      JSON.stringify({
        DATE: '2024-05-03',
        MODE: 'web',
        id: i,
        payload: { items: i in odd ? odd[i] : [i] },
      }).padEnd(99)
    );
    await lake.store.put('raw/odd_items/a.jsonl', lines.join('\n'));

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'odd_items',
          batchId: 'odd-items-1',
          objects: [{ key: 'raw/odd_items/a.jsonl', size: 1 }],
        },
        {
          store: lake.store,
          engine,
          ledger,
          options: { ...OPTIONS, leaveInPlace: true, explode: [['payload', 'items']] },
        }
      )
    );
    const files = await downloadParts(await partsOf(result), 'odd-items');
    const kept = await DuckDbEngine.use({}, (engine) =>
      engine.all(
        `select id, _variant from read_parquet([${files.join(', ')}], union_by_name = true) where _variant is not null order by id`
      )
    );

    // Assess: 29,997 arrays of one element; the rest kept with their record, none dropped
    expect(result.rowsWritten).toBe(30_000);
    expect(result.children).toMatchObject([{ rowsWritten: 29_997 }]);
    expect(kept).toEqual([
      { id: '20025', _variant: '[{"payload_items":{"lost":"VALUE"}}]' },
      { id: '20055', _variant: '[{"payload_items":"SCALAR"}]' },
    ]);
  });
});

describe('Function: runFlattenBatch (late element keys)', () => {
  it('keeps an element key first seen past the sampled elements as a child column', async () => {
    // Prepare: 1,500 records of one element each; element 1,400 has a key no other has
    const body = Array.from({ length: 1500 }, (_, i) =>
      JSON.stringify({
        DATE: '2024-06-01',
        MODE: 'web',
        items: [{ sku: `S${i}`, ...(i === 1399 ? { late: 'x' } : {}) }],
      })
    ).join('\n');
    await lake.store.put('raw/late/a.jsonl', body);

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'late',
          batchId: 'late-1',
          objects: [{ key: 'raw/late/a.jsonl', size: body.length }],
        },
        {
          store: lake.store,
          engine,
          ledger,
          options: { ...OPTIONS, leaveInPlace: true, explode: [['items']] },
        }
      )
    );

    // Assess
    const [child] = result.children;
    expect(child?.rowsWritten).toBe(1500);
    const local = join(lake.dir, 'late-items.parquet');
    await lake.store.download((await partsOf(result, 0))[0] ?? '', local);
    const rows = await DuckDbEngine.use({}, (engine) =>
      engine.all(
        `select _source_line, late from read_parquet(${quoteLiteral(local)}) where late is not null`
      )
    );
    expect(rows).toEqual([{ _source_line: '1400', late: 'x' }]);
  });
});

describe('Function: runFlattenBatch (an object planned in byte ranges)', () => {
  it('reads each line once across the ranges, and moves the object when the last range is done', async () => {
    // Prepare: 1,500 records and two malformed lines in one object, planned in ~100 KB ranges
    const key = 'raw/split/all_historical_files/big.jsonl';
    const lines = Array.from({ length: 1500 }, (_, i) =>
      JSON.stringify({
        id: i,
        DATE: '2024-05-06',
        MODE: i % 2 ? 'web' : 'ios',
        pad: 'p'.repeat(i % 300),
      })
    );
    lines.splice(700, 0, '{"id": "broken"');
    lines.splice(1200, 0, '[1, 2]');
    await lake.store.put(key, `${lines.join('\n')}\n`);
    const split = { feed: 'split', prefix: 'raw/split/', targetBatchBytes: 100 * 1024 };
    const batches = await planOf('split-1', split);
    const run = (batch: PlannedBatch) =>
      DuckDbEngine.use({}, (engine) =>
        runFlattenBatch(
          { feed: 'split', ...batch },
          { store: lake.store, engine, ledger, options: OPTIONS }
        )
      );

    // Act
    const results: FlattenBatchResult[] = [];
    const stillRaw: boolean[] = [];
    for (const batch of batches) {
      results.push(await run(batch));
      stillRaw.push((await lake.store.get(key)) !== undefined);
    }
    const again = await run(batches.at(-1) as PlannedBatch);
    const replan = await planOf('split-2', split);

    // Assess
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(stillRaw).toEqual([...batches.slice(1).map(() => true), false]);
    expect(
      await lake.store.get(`raw-processed/split/all_historical_files/big.jsonl`)
    ).toBeDefined();
    expect(again).toMatchObject({ rowsWritten: results.at(-1)?.rowsWritten, skipped: 0 });
    expect(replan).toEqual([]);
    expect(results.reduce((n, r) => n + r.rowsWritten, 0)).toBe(1500);
    expect(results.reduce((n, r) => n + r.recordsQuarantined, 0)).toBe(2);
    const files = await downloadParts(
      (await Promise.all(results.map((r) => partsOf(r)))).flat(),
      'split'
    );
    const [read] = await DuckDbEngine.use({}, (engine) =>
      engine.all(
        `select count(*) as n, count(distinct id) as ids, min(_source_key) as first_key, count(distinct _source_key) as keys
         from read_parquet([${files.join(', ')}])`
      )
    );
    expect(read).toEqual({
      n: '1500',
      ids: '1500',
      first_key: `${key}#bytes=0-102400`,
      keys: String(batches.length),
    });
    const entries = await ledger.getMany([key]);
    expect(entries.get(key)?.status).toBe('SUCCEEDED');
  });
  it('moves an object whose ranges an earlier run finished, though this plan skips them all', async () => {
    // Prepare: every range SUCCEEDED by batches of a run that stopped before moving the object
    const key = 'raw/split/left/left.jsonl';
    const body = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ id: i, DATE: '2024-05-07' })
    );
    await lake.store.put(key, `${body.join('\n')}\n`);
    const input = { feed: 'split', prefix: 'raw/split/left/', targetBatchBytes: 2 * 1024 };
    const batches = await planOf('left-1', input);
    for (const [n, batch] of batches.entries()) {
      const item = batch.objects[0] as { key: string; range: [number, number] };
      const id = rangeKey(item.key, item.range);
      await ledger.claim(id, `earlier-${n}`, new Date(), 60_000);
      await ledger.succeed(id, `earlier-${n}`, { rowsWritten: 1, rowsQuarantined: 0 }, new Date());
    }

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        { feed: 'split', ...(batches[0] as PlannedBatch) },
        { store: lake.store, engine, ledger, options: OPTIONS }
      )
    );

    // Assess
    expect(batches.length).toBeGreaterThan(2);
    expect(result).toMatchObject({ objects: 0, skipped: 1, rowsWritten: 0 });
    expect(await lake.store.get(key)).toBeUndefined();
    expect(await lake.store.get('raw-processed/split/left/left.jsonl')).toBeDefined();
    expect((await ledger.getMany([key])).get(key)?.status).toBe('SUCCEEDED');
  });
});
