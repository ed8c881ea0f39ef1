import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbEngine } from '../engine/index.js';
import { runFlattenBatch } from './runFlattenBatch.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: runFlattenBatch (memory)', () => {
  it('fails a batch that cannot fit in DuckDB’s memory limit with Strata.Terminal, and marks its objects FAILED with why', async () => {
    // Prepare: a record of 30 MB, more than a 16 MB limit can hold
    const key = 'raw/memory/big.jsonl';
    const body = `${JSON.stringify({ id: 1, pad: 'x'.repeat(30e6) })}\n{"id":2}\n`;
    await lake.store.put(key, body);

    // Act
    const error = await DuckDbEngine.use({ threads: 1, memoryLimit: '16MB' }, (engine) =>
      runFlattenBatch(
        { feed: 'memory', batchId: 'memory-1', objects: [{ key, size: body.length }] },
        {
          store: lake.store,
          engine,
          ledger: lake.ledger,
          options: {
            separator: '_',
            maxDepth: 3,
            partition: { date: 'DATE', mode: 'MODE' },
            leaveInPlace: true,
          },
        }
      ).then(
        () => undefined,
        (rejected: unknown) => rejected as Error
      )
    );

    // Assess
    expect(error?.name).toBe('Strata.Terminal');
    expect(error?.message).toMatch(/^out of memory: .*memory_limit of 15\.2 MiB/);
    expect((await lake.ledger.getMany([key])).get(key)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/^Strata\.Terminal: out of memory/),
    });
  });
});
