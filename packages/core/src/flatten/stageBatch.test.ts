import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbEngine } from '../engine/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions } from './types.js';

let lake: LocalLake;

const OPTIONS: FlattenBatchOptions = {
  separator: '_',
  maxDepth: 3,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: true,
};

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

/** Three small JSON Lines objects under `prefix`, as a batch's items. */
const writeObjects = async (prefix: string) => {
  const objects = [];
  for (const n of [0, 1, 2]) {
    const key = `${prefix}part-${n}.jsonl`;
    const body = [1, 2].map((id) => JSON.stringify({ id: n * 10 + id, DATE: '2024-01-02' }));
    await lake.store.put(key, body.join('\n'));
    objects.push({ key, size: Buffer.byteLength(body.join('\n')) });
  }
  return objects;
};

/** The lake's store, recording each download's key. */
const recording = (store: ObjectStore, downloaded: string[], started: Map<string, () => void>) =>
  new Proxy(store, {
    get(target, prop) {
      if (prop !== 'download') return bound(target, prop);
      return (key: string, path: string, range?: readonly [number, number]) => {
        downloaded.push(key);
        started.get(key)?.();
        return target.download(key, path, range);
      };
    },
  });

const flatten = (
  batchId: string,
  objects: { key: string; size: number }[],
  deps: { store: ObjectStore; ledger: Ledger }
) =>
  DuckDbEngine.use({}, (engine) =>
    runFlattenBatch({ feed: 'staged', batchId, objects }, { ...deps, engine, options: OPTIONS })
  );

/** A member of an adapter, its methods bound to it (they use private fields). */
const bound = (target: object, prop: string | symbol) => {
  const value = Reflect.get(target, prop);
  return typeof value === 'function' ? value.bind(target) : value;
};

describe('Function: stageBatch', () => {
  it('downloads each object while its claim is still on its way', async () => {
    // Prepare: a ledger whose claims answer only once their object's download has started
    const objects = await writeObjects('raw/staged/overlap/');
    const started = new Map<string, () => void>();
    const downloadStarted = new Map(
      objects.map(({ key }) => [
        key,
        new Promise<void>((resolve, reject) => {
          started.set(key, resolve);
          setTimeout(() => reject(new Error(`no download of ${key} during its claim`)), 5_000);
        }),
      ])
    );
    const ledger = new Proxy(lake.ledger, {
      get(target, prop) {
        if (prop !== 'claim') return bound(target, prop);
        return async (...args: Parameters<Ledger['claim']>) => {
          await downloadStarted.get(args[0]);
          return target.claim(...args);
        };
      },
    });
    const downloaded: string[] = [];

    // Act
    const result = await flatten('overlap-1', objects, {
      store: recording(lake.store, downloaded, started),
      ledger,
    });

    // Assess
    expect(result.rowsWritten).toBe(6);
    expect(downloaded.sort()).toEqual(objects.map(({ key }) => key).sort());
  });

  it('does not download an object another live batch holds, and leaves it to that batch', async () => {
    // Prepare
    const objects = await writeObjects('raw/staged/held/');
    const [held] = objects;
    if (!held) throw new Error('no objects');
    await lake.ledger.claim(held.key, 'other-batch', new Date(), 60_000);
    const downloaded: string[] = [];

    // Act
    const result = await flatten('held-1', objects, {
      store: recording(lake.store, downloaded, new Map()),
      ledger: lake.ledger,
    });

    // Assess
    expect(result).toMatchObject({ objects: 2, skipped: 1, rowsWritten: 4 });
    expect(downloaded).not.toContain(held.key);
    expect((await lake.ledger.getMany([held.key])).get(held.key)).toMatchObject({
      status: 'PROCESSING',
      batchId: 'other-batch',
    });
  });
});
