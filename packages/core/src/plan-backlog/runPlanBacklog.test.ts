import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyLedger, GeneratedListing } from '../../../../test/support/generatedListing.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { ErrorName } from '../errors/index.js';
import { WIDE_LEAVES } from '../flatten/index.js';
import type { Ledger, LedgerEntry, ObjectStore } from '../ports/index.js';
import type { PlannedBatch } from './binPack.js';
import { DEFAULT_TARGET_BATCH_BYTES, runPlanBacklog, WIDE_BATCH_BYTES } from './runPlanBacklog.js';
import { throughputKey } from './throughput.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

const plannedKeys = async (store: ObjectStore, manifestKey: string): Promise<string[]> =>
  (await readPlan(store, manifestKey))
    .flatMap((batch) => batch.objects.map((object) => object.key))
    .sort();

/** One listed object as an S3 Inventory CSV row describes it. */
interface InventoryRow {
  key: string;
  size: number;
  isLatest?: boolean;
  isDeleteMarker?: boolean;
}

/** The fields AWS lists for a versioned bucket, in its order (storage-inventory-location.html). */
const FILE_SCHEMA =
  'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag';

/** A key as S3 Inventory writes it in CSV: URL-encoded, a space as `+`. */
const formEncode = (key: string) => encodeURIComponent(key).replaceAll('%20', '+');

/**
 * Writes an S3 Inventory report into the lake as AWS delivers one: gzip CSV data files with
 * every field quoted, and a manifest.json naming them with their size and MD5.
 */
const writeInventory = async (
  store: ObjectStore,
  files: InventoryRow[][],
  options: { fileFormat?: string; corruptMd5?: boolean } = {}
): Promise<string> => {
  const base = '_inventory/test-lake/raw-objects';
  const entries = [];
  for (const [n, rows] of files.entries()) {
    const csv = rows
      .map((row, i) =>
        [
          'test-lake',
          formEncode(row.key),
          `v${i}`,
          String(row.isLatest ?? true),
          String(row.isDeleteMarker ?? false),
          row.isDeleteMarker ? '' : String(row.size),
          '2026-11-08T21:32:00.000Z',
          'd41d8cd98f00b204e9800998ecf8427e',
        ]
          .map((field) => `"${field}"`)
          .join(',')
      )
      .join('\n');
    const body = gzipSync(`${csv}\n`);
    const key = `${base}/data/file-${n}.csv.gz`;
    await store.put(key, body);
    const md5 = createHash('md5').update(body).digest('hex');
    entries.push({
      key,
      size: body.length,
      MD5checksum: options.corruptMd5 ? md5.replace(/^./, md5[0] === '0' ? '1' : '0') : md5,
    });
  }
  const manifestKey = `${base}/2026-11-09T00-00Z/manifest.json`;
  await store.put(
    manifestKey,
    JSON.stringify({
      sourceBucket: 'test-lake',
      destinationBucket: 'arn:aws:s3:::test-lake',
      version: '2016-11-30',
      creationTimestamp: '1762646400000',
      fileFormat: options.fileFormat ?? 'CSV',
      fileSchema: FILE_SCHEMA,
      files: entries,
    })
  );
  return manifestKey;
};

const readPlan = async (store: ObjectStore, key: string): Promise<PlannedBatch[]> => {
  const body = await store.get(key);
  return new TextDecoder()
    .decode(body)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PlannedBatch);
};

describe('Function: runPlanBacklog', () => {
  it('plans the listed objects into a manifest, again those that failed or whose lease lapsed, and skips the finished and the held', async () => {
    // Prepare
    const keys = Array.from(
      { length: 12 },
      (_, i) => `raw/clicks/all_historical_files/f-${i}.json`
    );
    for (const key of keys) await lake.store.put(key, 'x'.repeat(40));
    await lake.store.put('raw/clicks/2026/week01/other.json', 'not in the prefix');
    const hour = 3600_000;
    const known = new Map<string, Omit<LedgerEntry, 'objectKey' | 'attempts' | 'updatedAt'>>([
      [keys[0] as string, { status: 'SUCCEEDED' }],
      [keys[1] as string, { status: 'SUCCEEDED' }],
      [keys[2] as string, { status: 'FAILED', error: 'Strata.Transient: slow down' }],
      [
        keys[3] as string,
        { status: 'PROCESSING', leaseUntil: new Date(Date.now() - hour).toISOString() },
      ],
      [
        keys[4] as string,
        { status: 'PROCESSING', leaseUntil: new Date(Date.now() + hour).toISOString() },
      ],
    ]);
    const partialLedger: Ledger = {
      ...emptyLedger,
      getMany: async (asked) =>
        new Map(
          asked.flatMap((key) => {
            const entry = known.get(key);
            return entry
              ? [[key, { objectKey: key, attempts: 1, updatedAt: '', ...entry }] as const]
              : [];
          })
        ),
    };

    // Act
    const result = await runPlanBacklog(
      {
        runId: 'plan-1',
        feed: 'clicks',
        prefix: 'raw/clicks/all_historical_files/',
        targetBatchBytes: 100,
        maxFilesPerBatch: 10,
      },
      { store: lake.store, ledger: partialLedger }
    );

    // Assess
    expect(result).toEqual({
      feed: 'clicks',
      prefix: 'raw/clicks/all_historical_files/',
      manifestKey: '_backfill/clicks/plan-1/plan.jsonl',
      objects: 9,
      bytes: 360,
      batches: 5,
      skipped: 2,
      retried: 2,
      held: 1,
      batchBytes: 100,
      tooLarge: 0,
      refused: 0,
      registryKey: '_backfill/clicks/plan-1/schema.json',
    });
    const plan = await readPlan(lake.store, result.manifestKey);
    const planned = plan.flatMap((batch) => batch.objects.map((object) => object.key)).sort();
    expect(planned).toEqual([...keys.slice(2, 4), ...keys.slice(5)].sort());
  });

  it("sizes batches to end within half the timeout at the feed's measured rate, and plans what cannot be cut and would not for quarantine", async () => {
    // Prepare: the last run measured 1 KiB/s, so a batch may hold 450 KiB
    await lake.store.put(
      throughputKey('rated'),
      JSON.stringify({
        feed: 'rated',
        runId: 'r-0',
        bytesPerSecond: 1024,
        basis: 'batches together',
        batches: 3,
      })
    );
    const kib = (n: number) => 'x'.repeat(n * 1024);
    await lake.store.put('raw/rated/a-small.jsonl', kib(200));
    await lake.store.put('raw/rated/b-small.jsonl', kib(200));
    await lake.store.put('raw/rated/c-big.jsonl', kib(1000));
    await lake.store.put('raw/rated/d-big.json.gz', kib(500));

    // Act
    const result = await runPlanBacklog(
      { runId: 'r-1', feed: 'rated', prefix: 'raw/rated/' },
      { store: lake.store, ledger: emptyLedger }
    );

    // Assess
    const plan = await readPlan(lake.store, result.manifestKey);
    expect(result).toMatchObject({ batchBytes: 450 * 1024, tooLarge: 1 });
    expect(plan.map((batch) => batch.bytes)).toEqual([
      400 * 1024,
      450 * 1024,
      450 * 1024,
      100 * 1024,
      500 * 1024,
    ]);
    const gzip = plan.at(-1)?.objects[0];
    expect(gzip?.key).toBe('raw/rated/d-big.json.gz');
    expect(gzip?.tooLarge).toBe(
      "too large for one batch: 0.488 MiB at 0.000977 MiB/s (the feed's measured rate) takes about 500 s, over the 450 s a batch may take (half FlattenBatch's 900 s); gzip and JSON arrays cannot be cut, so deliver it as JSON Lines or smaller files"
    );
  });

  it('plans batches of at most 128 MiB for a feed whose registry holds a wide record’s columns', async () => {
    // Prepare: one feed's registry at the wide threshold, one just under it
    const registry = (columns: number) =>
      JSON.stringify({ columns: Array.from({ length: columns }, (_, i) => ({ name: `c${i}` })) });
    for (const [feed, columns] of [
      ['broad', WIDE_LEAVES],
      ['slim', WIDE_LEAVES - 1],
    ] as const) {
      await lake.store.put(`raw/${feed}/a.jsonl`, '{}');
      await lake.store.put(`_schemas/${feed}/schema.json`, registry(columns));
    }
    const plan = (feed: string) =>
      runPlanBacklog(
        { runId: 'wide-1', feed, prefix: `raw/${feed}/` },
        { store: lake.store, ledger: emptyLedger }
      );

    // Act
    const [broad, slim] = [await plan('broad'), await plan('slim')];

    // Assess
    expect(WIDE_BATCH_BYTES).toBe(128 * 1024 * 1024);
    expect(broad.batchBytes).toBe(WIDE_BATCH_BYTES);
    expect(slim.batchBytes).toBe(DEFAULT_TARGET_BATCH_BYTES);
  });

  it('plans batches of at most 128 MiB on a feed’s first run when its first records are wide', async () => {
    // Prepare: no registry; records of WIDE_LEAVES leaf paths between them (JSON Lines past the
    // MiB the planner reads, gzip, a JSON array), and records one leaf path short of it
    const record = (paths: number, i: number) => ({
      id: i,
      payload: Object.fromEntries(Array.from({ length: paths - 1 }, (_, k) => [`f${k}`, k])),
    });
    const lines = (paths: number, count: number) =>
      Array.from({ length: count }, (_, i) => JSON.stringify(record(paths, i))).join('\n');
    await lake.store.put('raw/firstwide/a.jsonl', lines(WIDE_LEAVES, 2_000));
    await lake.store.put('raw/firstgzip/a.jsonl.gz', gzipSync(lines(WIDE_LEAVES, 2_000)));
    await lake.store.put(
      'raw/firstarray/a.json',
      JSON.stringify([record(WIDE_LEAVES, 0), record(WIDE_LEAVES, 1)])
    );
    await lake.store.put('raw/firstslim/0-empty.jsonl', '');
    await lake.store.put('raw/firstslim/a.jsonl', lines(WIDE_LEAVES - 1, 2_000));
    const plan = (feed: string) =>
      runPlanBacklog(
        { runId: 'first-1', feed, prefix: `raw/${feed}/` },
        { store: lake.store, ledger: emptyLedger }
      );

    // Act
    const planned = await Promise.all(
      ['firstwide', 'firstgzip', 'firstarray', 'firstslim'].map(async (feed) => ({
        feed,
        batchBytes: (await plan(feed)).batchBytes,
      }))
    );

    // Assess
    expect(planned).toEqual([
      { feed: 'firstwide', batchBytes: WIDE_BATCH_BYTES },
      { feed: 'firstgzip', batchBytes: WIDE_BATCH_BYTES },
      { feed: 'firstarray', batchBytes: WIDE_BATCH_BYTES },
      { feed: 'firstslim', batchBytes: DEFAULT_TARGET_BATCH_BYTES },
    ]);
  });

  it('keeps the registry as the run first planned against it, so a replanned run sees the same', async () => {
    // Prepare
    const registry = (columns: unknown[]) => JSON.stringify({ columns });
    await lake.store.put('raw/clocks/a.json', '{}');
    await lake.store.put('_schemas/clocks/schema.json', registry([{ name: 'a' }]));
    const plan = (runId: string) =>
      runPlanBacklog(
        { runId, feed: 'clocks', prefix: 'raw/clocks/' },
        { store: lake.store, ledger: emptyLedger }
      );
    const read = async (key: string) => new TextDecoder().decode(await lake.store.get(key));

    // Act
    const first = await plan('reg-1');
    await lake.store.put('_schemas/clocks/schema.json', registry([{ name: 'a' }, { name: 'b' }]));
    const replanned = await plan('reg-1');
    const next = await plan('reg-2');

    // Assess
    expect(replanned.registryKey).toBe(first.registryKey);
    expect(await read(first.registryKey)).toBe(registry([{ name: 'a' }]));
    expect(await read(next.registryKey)).toBe(registry([{ name: 'a' }, { name: 'b' }]));
  });

  it('refuses a prefix outside the feed', async () => {
    // Act
    const attempt = runPlanBacklog(
      { runId: 'plan-2', feed: 'clicks', prefix: 'raw/orders/' },
      { store: lake.store, ledger: emptyLedger }
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: ErrorName.BadInput });
  });

  it("fails before the plan when a partition path is in none of the run's first records, naming the nearest", async () => {
    // Prepare: JSON Lines, and gzip cut after the check's first MiB.
    const line = (i: number) =>
      JSON.stringify({ id: i, payload: { meta: { updated_at: '2024-05-03' } }, kind: 'web' });
    await lake.store.put('raw/parts/a.jsonl', [1, 2].map(line).join('\n'));
    await lake.store.put(
      'raw/parts/b.jsonl.gz',
      gzipSync(Array.from({ length: 40_000 }, (_, i) => line(i)).join('\n'))
    );
    const plan = (partition: { date?: string; mode?: string }, runId: string) =>
      runPlanBacklog(
        { runId, feed: 'parts', prefix: 'raw/parts/' },
        { store: lake.store, ledger: emptyLedger, partition }
      );

    // Act
    const wrong = await plan({ date: 'payload.meta.updated', mode: 'kind' }, 'parts-1').catch(
      (error: unknown) => error
    );
    const right = await plan({ date: 'payload.meta.updated_at', mode: 'kind' }, 'parts-2');

    // Assess
    expect(wrong).toMatchObject({
      name: ErrorName.BadInput,
      message: expect.stringMatching(
        /partition\.date "payload\.meta\.updated" is in none of the first 100 records .*; nearest paths: payload\.meta\.updated_at, /
      ),
    });
    expect(await lake.store.get('_backfill/parts/parts-1/plan.jsonl')).toBeUndefined();
    expect(right.objects).toBe(2);
  });

  it('plans the ISO week before the scheduled time when given a week', async () => {
    // Prepare
    await lake.store.put('raw/clicks/2026/week53/last.json', 'x'.repeat(10));
    await lake.store.put('raw/clicks/2027/week01/first.json', 'x'.repeat(10));

    // Act
    const result = await runPlanBacklog(
      { runId: 'plan-week', feed: 'clicks', week: { scheduledTime: '2027-01-04T02:00:00Z' } },
      { store: lake.store, ledger: emptyLedger }
    );

    // Assess
    expect(result).toMatchObject({ prefix: 'raw/clicks/2026/week53/', objects: 1 });
    expect(await plannedKeys(lake.store, result.manifestKey)).toEqual([
      'raw/clicks/2026/week53/last.json',
    ]);
  });

  it.each([
    [
      'both a prefix and a week',
      { prefix: 'raw/clicks/', week: { scheduledTime: '2027-01-04T02:00:00Z' } },
    ],
    ['neither a prefix nor a week', {}],
  ])('refuses %s', async (_label, choice) => {
    // Act
    const attempt = runPlanBacklog(
      { runId: 'plan-3', feed: 'clicks', ...choice },
      { store: lake.store, ledger: emptyLedger }
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.BadInput,
      message: 'plan-backlog: give either prefix or week',
    });
  });

  it('plans the objects an S3 Inventory lists under the prefix, with their keys decoded', async () => {
    // Prepare
    const week = 'raw/clicks/2026/week45/';
    const wanted = [
      { key: `${week}café au lait.json`, size: 30 },
      { key: `${week}a+b (1).jsonl.gz`, size: 20 },
      { key: `${week}日本/drop 2.json`, size: 10 },
    ];
    for (const row of wanted) await lake.store.put(row.key, 'x'.repeat(row.size));
    const manifestKey = await writeInventory(lake.store, [
      [
        wanted[0] as InventoryRow,
        { key: 'raw/clicks/2026/week44/other week.json', size: 5 },
        { key: `${week}old version.json`, size: 7, isLatest: false },
      ],
      [
        wanted[1] as InventoryRow,
        { key: `${week}deleted.json`, size: 0, isDeleteMarker: true },
        wanted[2] as InventoryRow,
        { key: `${week}done.json`, size: 9 },
      ],
    ]);
    const ledger: Ledger = {
      ...emptyLedger,
      getMany: async (asked) =>
        new Map(
          asked
            .filter((key) => key.endsWith('done.json'))
            .map((key) => [
              key,
              { objectKey: key, status: 'SUCCEEDED', attempts: 1, updatedAt: '' },
            ])
        ),
    };

    // Act
    const result = await runPlanBacklog(
      { runId: 'plan-inventory', feed: 'clicks', prefix: week, inventory: { manifestKey } },
      { store: lake.store, ledger }
    );

    // Assess
    expect(result).toMatchObject({ objects: 3, bytes: 60, skipped: 1 });
    const planned = await plannedKeys(lake.store, result.manifestKey);
    expect(planned).toEqual(wanted.map((row) => row.key).sort());
    for (const key of planned) {
      expect(new TextDecoder().decode(await lake.store.get(key))).toHaveLength(
        wanted.find((row) => row.key === key)?.size ?? -1
      );
    }
  });

  it('leaves out the keys with . or .. segments a batch would refuse, and names them in the plan', async () => {
    // Prepare
    const week = 'raw/clicks/2026/week46/';
    const manifestKey = await writeInventory(lake.store, [
      [
        { key: `${week}fine.jsonl`, size: 10 },
        { key: `${week}../week45/escaped.jsonl`, size: 20 },
        { key: `${week}./dotted.jsonl`, size: 30 },
        { key: `${week}..hidden.jsonl`, size: 40 },
      ],
    ]);

    // Act
    const result = await runPlanBacklog(
      { runId: 'plan-dots', feed: 'clicks', prefix: week, inventory: { manifestKey } },
      { store: lake.store, ledger: emptyLedger }
    );

    // Assess
    expect(result).toMatchObject({ objects: 2, bytes: 50, refused: 2 });
    expect(await plannedKeys(lake.store, result.manifestKey)).toEqual([
      `${week}..hidden.jsonl`,
      `${week}fine.jsonl`,
    ]);
    const refused = new TextDecoder()
      .decode(await lake.store.get(result.refusedKey ?? ''))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; reason: string });
    expect(refused.map((r) => r.key)).toEqual([
      `${week}../week45/escaped.jsonl`,
      `${week}./dotted.jsonl`,
    ]);
    expect(refused[0]?.reason).toMatch(/without \. or \.\. segments/);
  });

  it('fails transiently when an inventory data file does not match its MD5', async () => {
    // Prepare
    const manifestKey = await writeInventory(
      lake.store,
      [[{ key: 'raw/clicks/2026/week46/a.json', size: 1 }]],
      { corruptMd5: true }
    );

    // Act
    const attempt = runPlanBacklog(
      { runId: 'plan-md5', feed: 'clicks', prefix: 'raw/clicks/', inventory: { manifestKey } },
      { store: lake.store, ledger: emptyLedger }
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: ErrorName.Transient });
    expect(await lake.store.get('_backfill/clicks/plan-md5/plan.jsonl')).toBeUndefined();
  });

  it('refuses an inventory that is not CSV', async () => {
    // Prepare
    const manifestKey = await writeInventory(lake.store, [[]], { fileFormat: 'Parquet' });

    // Act
    const attempt = runPlanBacklog(
      { runId: 'plan-orc', feed: 'clicks', prefix: 'raw/clicks/', inventory: { manifestKey } },
      { store: lake.store, ledger: emptyLedger }
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.BadInput,
      message: expect.stringContaining('only CSV inventories are read'),
    });
  });

  it('plans 2,000,000 objects, each exactly once, within the batch limits', async () => {
    // Prepare
    const store = new GeneratedListing(2_000_000);

    // Act
    const result = await runPlanBacklog(
      {
        runId: 'plan-big',
        feed: 'clicks',
        prefix: 'raw/clicks/all_historical_files/',
        targetBatchBytes: 64 * 1024 * 1024,
        maxFilesPerBatch: 1_000,
      },
      { store, ledger: emptyLedger }
    );

    // Assess
    expect(result.objects).toBe(2_000_000);
    expect(store.planned.objects).toBe(2_000_000);
    expect(store.planned.bytes).toBe(result.bytes);
    expect(store.planned.batches).toBe(result.batches);
    expect(store.planned.maxObjects).toBeLessThanOrEqual(1_000);
    expect(store.planned.maxBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
  });
});
