import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbEngine } from '../engine/index.js';
import type { ObjectStore } from '../ports/index.js';
import type { BatchIntent } from './batchIntent.js';
import { FlattenLayout } from './flattenLayout.js';
import { runFlattenBatch } from './runFlattenBatch.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

/** The lake's store, recording the key of every write when it completes. */
const recording = (store: ObjectStore, written: string[]) =>
  new Proxy(store, {
    get(target, prop) {
      const method = bound(target, prop);
      if (!['put', 'upload', 'copy'].includes(String(prop))) return method;
      return async (...args: string[]) => {
        await method(...args);
        written.push(String(prop) === 'copy' ? (args[1] as string) : (args[0] as string));
      };
    },
  });

/** A member of an adapter, its methods bound to it (they use private fields). */
const bound = (target: object, prop: string | symbol) => {
  const value = Reflect.get(target, prop);
  return typeof value === 'function' ? value.bind(target) : value;
};

describe('Function: commitBatch', () => {
  it('writes every key its intent names, Parquet and quarantine alike, before its manifest', async () => {
    // Prepare: days in several partitions, a malformed line, and a truncated gzip
    const lines = Array.from({ length: 40 }, (_, n) =>
      JSON.stringify({ id: n, DATE: `2024-01-${String((n % 5) + 1).padStart(2, '0')}` })
    );
    lines[7] = '{"id": 7,';
    const objects = [
      { key: 'raw/committed/a.jsonl', body: Buffer.from(lines.join('\n')) },
      { key: 'raw/committed/b.jsonl.gz', body: gzipSync(lines.join('\n')).subarray(0, 40) },
    ];
    for (const { key, body } of objects) await lake.store.put(key, body);
    const written: string[] = [];
    const batchId = 'commit-order-1';

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'committed',
          batchId,
          objects: objects.map(({ key, body }) => ({ key, size: body.length })),
        },
        {
          store: recording(lake.store, written),
          engine,
          ledger: lake.ledger,
          options: {
            separator: '_',
            maxDepth: 3,
            partition: { date: 'DATE', mode: 'MODE' },
            leaveInPlace: true,
          },
        }
      )
    );

    // Assess
    const intent = JSON.parse(
      new TextDecoder().decode(
        await lake.store.get(FlattenLayout.batchIntent('committed', batchId))
      )
    ) as BatchIntent;
    const manifest = FlattenLayout.batchManifest('committed', batchId);
    expect(result).toMatchObject({ rowsWritten: 39, recordsQuarantined: 2, parts: 5 });
    expect(written[0]).toBe(FlattenLayout.batchIntent('committed', batchId));
    expect(written.at(-1)).toBe(manifest);
    expect(written.slice(1).sort()).toEqual([...intent.keys].sort());
  });

  it('moves each raw object to raw-processed/ once it is marked, while the others are being marked', async () => {
    // Prepare: a ledger whose last mark answers only once an object has been moved
    const keys = [0, 1, 2].map((n) => `raw/moving/part-${n}.jsonl`);
    const body = (n: number) => `${JSON.stringify({ id: n, DATE: '2024-01-02' })}\n`;
    for (const [n, key] of keys.entries()) await lake.store.put(key, body(n));
    const copied: string[] = [];
    const store = new Proxy(lake.store, {
      get(target, prop) {
        const method = bound(target, prop);
        if (prop !== 'copy') return method;
        return async (...args: [string, string, number?]) => {
          await method(...args);
          copied.push(args[0]);
        };
      },
    });
    let marked = 0;
    const ledger = new Proxy(lake.ledger, {
      get(target, prop) {
        const method = bound(target, prop);
        if (prop !== 'succeed') return method;
        return async (...args: unknown[]) => {
          if (++marked === keys.length) {
            const deadline = Date.now() + 5_000;
            while (copied.length === 0) {
              if (Date.now() > deadline) throw new Error('no object moved before the last mark');
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
          }
          return method(...args);
        };
      },
    });

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runFlattenBatch(
        {
          feed: 'moving',
          batchId: 'moving-1',
          objects: keys.map((key, n) => ({ key, size: body(n).length })),
        },
        {
          store,
          engine,
          ledger,
          options: {
            separator: '_',
            maxDepth: 3,
            partition: { date: 'DATE', mode: 'MODE' },
            leaveInPlace: false,
          },
        }
      )
    );

    // Assess
    expect(result.rowsWritten).toBe(3);
    expect(copied.sort()).toEqual(keys);
    expect(await keysUnder(lake.store, 'raw/moving/')).toEqual([]);
    expect([...(await lake.ledger.getMany(keys)).values()].map((entry) => entry.status)).toEqual([
      'SUCCEEDED',
      'SUCCEEDED',
      'SUCCEEDED',
    ]);
  });
});
