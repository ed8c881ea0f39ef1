import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
