import { describe, expect, it } from 'vitest';
import { eachLimited } from './eachLimited.js';

describe('Function: eachLimited', () => {
  it('works on every item with no more than the limit at once', async () => {
    // Prepare
    let running = 0;
    let most = 0;
    const seen: number[] = [];

    // Act
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(item);
      running--;
    });

    // Assess
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('rejects with the error after the running work has settled', async () => {
    // Prepare
    const done: number[] = [];

    // Act
    const attempt = eachLimited([1, 2, 3], 3, async (item) => {
      if (item === 1) throw new Error('one failed');
      await new Promise((resolve) => setTimeout(resolve, 5));
      done.push(item);
    });

    // Assess
    await expect(attempt).rejects.toThrow('one failed');
    expect(done.sort()).toEqual([2, 3]);
  });
});
