import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { downloadLineRange, rangeKey } from './lineRange.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: downloadLineRange', () => {
  it('gives each line of an object to exactly one of the ranges that tile it', async () => {
    // Prepare: short lines, one line longer than a probe, and a last line with no newline
    const lines = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({ i, pad: 'x'.repeat(i === 200 ? 150_000 : (i * 37) % 500) })
    );
    const text = `${lines.join('\n')}\n{"i":"last"}`;
    const key = 'raw/ranges/tiled.jsonl';
    await lake.store.put(key, text);
    const size = Buffer.byteLength(text);

    for (const step of [1_000, 7_777, 64 * 1024, size]) {
      // Act
      const parts: string[] = [];
      for (let start = 0; start < size; start += step) {
        const path = join(lake.dir, `range-${step}-${start}.jsonl`);
        const range = [start, Math.min(size, start + step)] as const;
        await downloadLineRange(lake.store, { key, size, range }, path);
        parts.push(await readFile(path, 'utf8'));
      }

      // Assess
      expect(parts.join('')).toBe(text);
      expect(parts.every((part) => part === '' || part.endsWith('\n') || part.endsWith('}'))).toBe(
        true
      );
    }
  });

  it('downloads nothing for a range that lies inside one line', async () => {
    // Prepare
    const text = `{"a":1}\n{"long":"${'y'.repeat(10_000)}"}\n{"b":2}\n`;
    await lake.store.put('raw/ranges/inside.jsonl', text);
    const path = join(lake.dir, 'inside.jsonl');

    // Act
    await downloadLineRange(
      lake.store,
      { key: 'raw/ranges/inside.jsonl', size: Buffer.byteLength(text), range: [100, 5_000] },
      path
    );

    // Assess
    expect(await readFile(path, 'utf8')).toBe('');
  });
});

describe('Function: rangeKey', () => {
  it('names the object and its planned bytes', () => {
    // Act
    const key = rangeKey('raw/f/big.jsonl', [0, 268_435_456]);

    // Assess
    expect(key).toBe('raw/f/big.jsonl#bytes=0-268435456');
  });
});
