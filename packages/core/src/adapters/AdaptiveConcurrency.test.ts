import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from './AdaptiveConcurrency.js';

const pushedBack = Object.assign(new Error('slow down'), { name: 'Strata.Transient' });
const isRetryable = (error: unknown) => error === pushedBack;

describe('Class: AdaptiveConcurrency', () => {
  describe('Method: each', () => {
    it('backs off with full jitter, doubling the cap per attempt up to the maximum', async () => {
      // Prepare: the item is pushed back four times; random() is at its top
      const waits: number[] = [];
      const limiter = new AdaptiveConcurrency({
        initial: 1,
        min: 1,
        max: 1,
        maxAttempts: 5,
        baseDelayMs: 100,
        maxDelayMs: 500,
        random: () => 0.999,
        sleep: async (ms) => {
          waits.push(ms);
        },
      });
      let attempts = 0;

      // Act
      const { outcomes, retried } = await limiter.each(
        ['a'],
        async () => {
          attempts++;
          if (attempts < 5) throw pushedBack;
        },
        isRetryable
      );

      // Assess
      expect(outcomes).toEqual([{ ok: true }]);
      expect(retried).toBe(4);
      expect(waits).toEqual([99, 199, 399, 499]);
    });

    it('halves the limit once per round of push-backs, never below the minimum, and grows it back', async () => {
      // Prepare: the first round of 8 calls is all pushed back
      const limiter = new AdaptiveConcurrency({
        initial: 8,
        min: 2,
        max: 8,
        maxAttempts: 3,
        baseDelayMs: 1,
        maxDelayMs: 1,
        sleep: async () => undefined,
      });
      let calls = 0;
      const limits: number[] = [];

      // Act
      await limiter.each(
        Array.from({ length: 40 }, (_, i) => i),
        async () => {
          calls++;
          limits.push(limiter.limit);
          if (calls <= 8) throw pushedBack;
        },
        isRetryable
      );

      // Assess: one halving for the round (8 → 4), not eight (8 → 2), then additive growth
      expect(limits.slice(8, 12)).toEqual([4, 4, 4, 4]);
      expect(limiter.limit).toBeGreaterThan(4);
      expect(limiter.limit).toBeLessThanOrEqual(8);
    });

    it('does not retry an error that is not push-back', async () => {
      // Prepare
      const limiter = new AdaptiveConcurrency({
        initial: 2,
        min: 1,
        max: 2,
        maxAttempts: 5,
        baseDelayMs: 1,
        maxDelayMs: 1,
      });
      const invalid = new Error('invalid');
      let calls = 0;

      // Act
      const { outcomes, retried } = await limiter.each(
        ['x', 'y'],
        async (item) => {
          calls++;
          if (item === 'x') throw invalid;
        },
        isRetryable
      );

      // Assess
      expect(outcomes).toEqual([{ ok: false, error: invalid }, { ok: true }]);
      expect([calls, retried]).toEqual([2, 0]);
    });
  });
});
