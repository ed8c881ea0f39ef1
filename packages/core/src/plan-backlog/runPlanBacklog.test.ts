import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyLedger, GeneratedListing } from '../../../../test/support/generatedListing.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { ErrorName } from '../errors/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import type { PlannedBatch } from './binPack.js';
import { runPlanBacklog } from './runPlanBacklog.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

const readPlan = async (store: ObjectStore, key: string): Promise<PlannedBatch[]> => {
  const body = await store.get(key);
  return new TextDecoder()
    .decode(body)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PlannedBatch);
};

describe('Function: runPlanBacklog', () => {
  it('plans the listed objects into a manifest and skips what the ledger marks SUCCEEDED', async () => {
    // Prepare
    const keys = Array.from(
      { length: 12 },
      (_, i) => `raw/clicks/all_historical_files/f-${i}.json`
    );
    for (const key of keys) await lake.store.put(key, 'x'.repeat(40));
    await lake.store.put('raw/clicks/2026/week01/other.json', 'not in the prefix');
    const succeeded = new Set(keys.slice(0, 2));
    const partialLedger: Ledger = {
      ...emptyLedger,
      getMany: async (asked) =>
        new Map(
          asked
            .filter((key) => succeeded.has(key))
            .map((key) => [
              key,
              { objectKey: key, status: 'SUCCEEDED', attempts: 1, updatedAt: '' },
            ])
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
      manifestKey: '_backfill/clicks/plan-1/plan.jsonl',
      objects: 10,
      bytes: 400,
      batches: 5,
      skipped: 2,
      registryKey: '_backfill/clicks/plan-1/schema.json',
    });
    const plan = await readPlan(lake.store, result.manifestKey);
    const planned = plan.flatMap((batch) => batch.objects.map((object) => object.key)).sort();
    expect(planned).toEqual(keys.slice(2).sort());
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
