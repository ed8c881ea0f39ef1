import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_INPUTS, estimateFeatureIngest } from './featureIngestModel.js';

describe('Function: estimateFeatureIngest', () => {
  it("caps the rate at the account's PutRecord quota and prices one write unit per record under 1 KiB", () => {
    // Act
    const estimate = estimateFeatureIngest(DEFAULT_FEATURE_INPUTS);

    // Assess: 4 × 64 in flight at 15 ms could send 17,067/s; the quota allows 10,000/s
    expect(estimate.ranges).toBe(500);
    expect(Math.round(estimate.demandPerSecond)).toBe(17_067);
    expect(estimate.ratePerSecond).toBe(10_000);
    expect(estimate.wallSeconds).toBe(1_000);
    expect(estimate.rangeSeconds).toBe(8);
    expect(estimate.cost.writeUnits).toBeCloseTo(12.5, 6);
    expect(estimate.cost.total).toBeGreaterThan(estimate.cost.writeUnits);
  });

  it('is bound by the calls in flight when the quota is higher than they can send', () => {
    // Act
    const estimate = estimateFeatureIngest({
      ...DEFAULT_FEATURE_INPUTS,
      accountTps: 100_000,
      recordBytes: 1500,
    });

    // Assess
    expect(Math.round(estimate.ratePerSecond)).toBe(17_067);
    expect(estimate.cost.writeUnits).toBeCloseTo(25, 6);
  });
});
