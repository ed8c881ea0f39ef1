import { describe, expect, it } from 'vitest';
import { binPack, type PlannedBatch } from './binPack.js';

async function* listing(objects: { key: string; size: number }[]) {
  yield* objects;
}

const pack = async (
  objects: { key: string; size: number }[],
  targetBytes = 100,
  maxFiles = 3,
  splitOversized = true
) => {
  const batches: PlannedBatch[] = [];
  for await (const batch of binPack(listing(objects), {
    targetBytes,
    maxFiles,
    batchIdPrefix: 'r',
    splitOversized,
  })) {
    batches.push(batch);
  }
  return batches;
};

describe('Function: binPack', () => {
  it('closes a batch before it would exceed the target bytes or the file cap', async () => {
    // Act
    const batches = await pack([
      { key: 'a.json', size: 60 },
      { key: 'b.json', size: 30 },
      { key: 'c.json', size: 20 },
      { key: 'd.json', size: 1 },
      { key: 'e.json', size: 1 },
      { key: 'f.json', size: 1 },
    ]);

    // Assess
    expect(
      batches.map((batch) => [batch.batchId, batch.bytes, batch.objects.map((o) => o.key)])
    ).toEqual([
      ['r-000000', 90, ['a.json', 'b.json']],
      ['r-000001', 22, ['c.json', 'd.json', 'e.json']],
      ['r-000002', 1, ['f.json']],
    ]);
  });

  it('cuts an oversized line-delimited object into byte ranges and keeps a gzip whole', async () => {
    // Act
    const batches = await pack([
      { key: 'small.json', size: 10 },
      { key: 'big.jsonl', size: 250 },
      { key: 'big.json.gz', size: 250 },
    ]);

    // Assess
    expect(batches.map((batch) => batch.objects)).toEqual([
      [{ key: 'small.json', size: 10 }],
      [{ key: 'big.jsonl', size: 250, range: [0, 100], step: 100 }],
      [{ key: 'big.jsonl', size: 250, range: [100, 200], step: 100 }],
      [{ key: 'big.jsonl', size: 250, range: [200, 250], step: 100 }],
      [{ key: 'big.json.gz', size: 250 }],
    ]);
  });

  it('keeps an oversized object whole in a batch of its own unless asked to split', async () => {
    // Act
    const batches = await pack([{ key: 'big.jsonl', size: 250 }], 100, 3, false);

    // Assess
    expect(batches.map((batch) => batch.objects)).toEqual([[{ key: 'big.jsonl', size: 250 }]]);
  });

  it('plans nothing for an empty listing', async () => {
    // Act
    const batches = await pack([]);

    // Assess
    expect(batches).toEqual([]);
  });

  it('closes a batch before its JSON line would pass maxItemBytes, whatever the file cap', async () => {
    // Prepare: keys of 1,000 characters, as S3 allows up to 1,024 bytes
    const objects = Array.from({ length: 40 }, (_, i) => ({
      key: `${'k'.repeat(990)}-${String(i).padStart(4, '0')}.json`,
      size: 10,
    }));

    // Act
    const batches: PlannedBatch[] = [];
    for await (const batch of binPack(listing(objects), {
      targetBytes: 1_000_000,
      maxFiles: 1_000,
      maxItemBytes: 8 * 1024,
      batchIdPrefix: 'r',
    })) {
      batches.push(batch);
    }

    // Assess
    expect(batches.flatMap((batch) => batch.objects)).toEqual(objects);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(8 * 1024);
    }
  });
});
