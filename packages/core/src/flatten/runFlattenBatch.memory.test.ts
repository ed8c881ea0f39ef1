import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbEngine } from '../engine/index.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions } from './types.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

/** Flattens one object as a batch of its own, DuckDB held to `memoryLimit` on one thread. */
const flattenWithin = (
  memoryLimit: string,
  batch: { feed: string; key: string; size: number },
  options: Partial<FlattenBatchOptions> = {}
) =>
  DuckDbEngine.use({ threads: 1, memoryLimit }, (engine) =>
    runFlattenBatch(
      {
        feed: batch.feed,
        batchId: `${batch.feed}-1`,
        objects: [{ key: batch.key, size: batch.size }],
      },
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
    const error = await flattenWithin('16MB', { feed: 'memory', key, size: body.length }).then(
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

  it('flattens a map-shaped batch whose inference does not fit in memory, keeping the map whole', async () => {
    // Prepare: 400 records, each naming 10 features of its own with a nested value: 4,000
    // distinct keys under `features`, each a path DuckDB's inference holds at once
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
      { feed: 'maps', key, size: body.length },
      { infer: 'always' }
    );

    // Assess: every record written, the map one JSON column
    expect(result).toMatchObject({ recordsRead: 400, rowsWritten: 400, recordsQuarantined: 0 });
    const fragment = JSON.parse(
      new TextDecoder().decode(await lake.store.get(`_schemas/maps/fragments/maps-1.json`))
    ) as { columns: { name: string; type: string }[] };
    expect(fragment.columns.map((column) => [column.name, column.type])).toEqual([
      ['date', 'VARCHAR'],
      ['mode_2', 'VARCHAR'],
      ['id', 'BIGINT'],
      ['features', 'JSON'],
    ]);
  });
});
