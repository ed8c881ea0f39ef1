import { describe, expect, it } from 'vitest';
import { measureThroughput } from './measureThroughput.js';

/** A succeeded child's ResultWriter record: its objects, whether it skipped any, its times. */
const record = (sizes: number[], seconds: number, skipped = 0) => ({
  Input: JSON.stringify({ objects: sizes.map((size) => ({ key: 'raw/f/x', size })) }),
  Output: JSON.stringify({ skipped }),
  StartDate: '2026-12-07T00:00:00.000Z',
  StopDate: new Date(Date.parse('2026-12-07T00:00:00.000Z') + seconds * 1000).toISOString(),
});

describe('Function: measureThroughput', () => {
  it('divides the bytes by the time of the batches that ran long enough and skipped nothing', () => {
    // Prepare
    const records = [
      record([60_000_000], 10),
      record([20_000_000, 10_000_000], 10),
      record([1_000], 1),
      record([1_000_000], 10, 1),
      {
        ...record([], 10),
        Input: JSON.stringify({ objects: [{ key: 'raw/f/y', size: 90, range: [0, 40] }] }),
      },
    ];

    // Act
    const measured = measureThroughput({ feed: 'f', runId: 'r' }, records);

    // Assess
    expect(measured).toEqual({
      feed: 'f',
      runId: 'r',
      bytesPerSecond: (60_000_000 + 30_000_000 + 40) / 30,
      basis: 'batches together',
      batches: 3,
    });
  });

  it('measures nothing when every batch was too short to tell', () => {
    // Act
    const measured = measureThroughput({ feed: 'f', runId: 'r' }, [record([5_000], 2)]);

    // Assess
    expect(measured).toBeUndefined();
  });
});
