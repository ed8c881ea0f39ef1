import { describe, expect, it } from 'vitest';
import {
  ASSUMED_PER_CORE,
  type CostInputs,
  costAssumptions,
  DEFAULT_COST_INPUTS,
  estimateCost,
  estimatePlanCost,
  expressDurationCost,
  PRICES,
} from './costModel.js';

const MIB = 1024 ** 2;
const TIB = 1024 ** 4;

/** 1 TiB in 100,000 objects of about 10 MiB, one core doing 100 MiB/s. */
const inputs = (overrides: Partial<CostInputs> = {}): CostInputs => ({
  ...DEFAULT_COST_INPUTS,
  perCoreMBps: 100,
  source: 'test',
  totalBytes: TIB,
  objects: 100_000,
  ...overrides,
});

const cost = (estimate: ReturnType<typeof estimateCost>, item: string) =>
  estimate.lines.find((line) => line.item.startsWith(item));

describe('Function: estimateCost', () => {
  it('prices Lambda GB-seconds at two threads of 0.79 scaling on a 3,538 MB function', () => {
    // Act
    const estimate = estimateCost(inputs());

    // Assess
    const perLambda = 100 * 2 * 0.79;
    const gbSeconds = ((TIB / MIB / perLambda) * 3538) / 1024;
    expect(estimate.perLambdaMBps).toBeCloseTo(perLambda, 9);
    expect(cost(estimate, 'Lambda compute')?.quantity).toBeCloseTo(gbSeconds, 6);
    expect(cost(estimate, 'Lambda compute')?.arm64).toBeCloseTo(gbSeconds * 0.0000133334, 6);
    expect(cost(estimate, 'Lambda compute')?.x86).toBeCloseTo(gbSeconds * 0.0000166667, 6);
  });

  it('counts one batch, one child and one transition per 256 MiB, and S3 requests per object', () => {
    // Act
    const estimate = estimateCost(inputs());

    // Assess
    expect(estimate.batches).toBe(4096);
    expect(estimate.secondsPerBatch).toBeCloseTo(256 / 158, 9);
    expect(cost(estimate, 'Step Functions standard')?.quantity).toBe(4100);
    expect(cost(estimate, 'Step Functions standard')?.arm64).toBeCloseTo(4100 * 0.000025, 9);
    expect(cost(estimate, 'Step Functions STANDARD child')?.quantity).toBe(8192);
    expect(cost(estimate, 'Step Functions STANDARD child')?.arm64).toBeCloseTo(8192 * 0.000025, 9);
    expect(estimate.children.standard).toBeCloseTo(8192 * 0.000025, 9);
    expect(estimate.children.express).toBeCloseTo(
      4096 * 0.000001 + expressDurationCost(4096 * 1.7 * (64 / 1024)),
      9
    );
    expect(cost(estimate, 'S3 GET')?.quantity).toBe(100_001);
    expect(cost(estimate, 'S3 PUT')?.quantity).toBe(4096 * 21 + 1);
    expect(cost(estimate, 'S3 COPY')?.arm64).toBeCloseTo(100_000 * 0.000005, 9);
    expect(cost(estimate, 'S3 LIST')?.quantity).toBe(100);
    // 1 TiB stored a second time for two days (a 90-day retention would cost 45 times more).
    expect(cost(estimate, 'S3 storage of the raw/ versions')?.quantity).toBeCloseTo(1024 / 15, 9);
    expect(cost(estimate, 'S3 storage of the raw/ versions')?.arm64).toBeCloseTo(
      (1024 / 15) * 0.023,
      9
    );
    expect(cost(estimate, 'DynamoDB ledger writes')?.arm64).toBeCloseTo(0.125, 9);
    expect(estimate.total.arm64).toBeCloseTo(
      estimate.lines.reduce((sum, line) => sum + line.arm64, 0),
      9
    );
  });

  it('bounds the wall time by concurrency while S3 keeps up, then by its request rate', () => {
    // Prepare: 10,000 objects of ~105 MiB, each Lambda reading 158 MiB/s of them
    const big = inputs({ objects: 10_000 });

    // Act
    const estimate = estimateCost(big);

    // Assess: every object is read once and copied once, and S3 copies 3,500 a second
    const s3Cap = Math.floor(3500 / (158 / (TIB / MIB / 10_000)));
    expect(s3Cap).toBe(2322);
    expect(estimate.wall.map((w) => [w.effective, w.boundBy])).toEqual([
      [100, 'concurrency'],
      [1000, 'concurrency'],
      [s3Cap, 'S3 request rate per prefix'],
    ]);
    expect(estimate.wall[0]?.seconds).toBeCloseTo(10 * 0.1 + 41 * (256 / 158), 6);
    expect(estimate.wall[2]?.seconds).toBeCloseTo(10 * 0.1 + 2 * (256 / 158), 6);
  });

  it('runs every batch at once when there are fewer batches than the concurrency', () => {
    // Act
    const estimate = estimateCost(inputs({ totalBytes: 10 * 1024 ** 3, objects: 1000 }));

    // Assess
    expect(estimate.batches).toBe(40);
    expect(estimate.wall.map((w) => [w.effective, w.boundBy])).toEqual([
      [40, 'number of batches'],
      [40, 'number of batches'],
      [40, 'number of batches'],
    ]);
  });

  it("warns when a batch outlasts half of FlattenBatch's timeout, the planner's budget", () => {
    // Act
    const slow = estimateCost(inputs({ perCoreMBps: 0.3 }));
    const quick = estimateCost(inputs());

    // Assess
    expect(slow.warnings).toEqual([expect.stringContaining("the planner's budget")]);
    expect(quick.warnings).toEqual([]);
  });

  it('prices Glue by DPU-hours at the assumed throughput per DPU', () => {
    // Act
    const estimate = estimateCost(inputs({ glueMBpsPerDpu: 80, glueWorkers: 10 }));

    // Assess
    const dpuHours = TIB / MIB / 80 / 3600;
    expect(estimate.glue.dpuHours).toBeCloseTo(dpuHours, 9);
    expect(estimate.glue.cost).toBeCloseTo(dpuHours * PRICES.gluePerDpuHour, 9);
    expect(estimate.glue.seconds).toBeCloseTo((dpuHours / 10) * 3600, 6);
  });
});

describe('Function: estimatePlanCost', () => {
  it("prices a plan's own batches at the assumed per-core rate and states it", () => {
    // Prepare: 1 GiB in 300 objects that a plan packed into 7 batches (a file-count limit
    // closes batches before 256 MiB)
    const plan = { totalBytes: 1024 * MIB, objects: 300, batches: 7 };

    // Act
    const estimate = estimatePlanCost(plan);

    // Assess
    const perLambda = ASSUMED_PER_CORE.perCoreMBps * 2 * 0.79;
    expect(estimate.batches).toBe(7);
    expect(estimate.secondsPerBatch).toBeCloseTo(1024 / 7 / perLambda, 9);
    expect(cost(estimate, 'Lambda requests')?.quantity).toBe(9);
    expect(cost(estimate, 'S3 GET')?.quantity).toBe(301);
    expect(estimate.total.arm64).toBeLessThan(estimate.total.x86);
    expect(costAssumptions(estimate).join('\n')).toContain(
      `${ASSUMED_PER_CORE.perCoreMBps} MiB/s per core`
    );
  });

  it("prices at a whole batch's rate when one is given, and states that rate instead", () => {
    // Prepare: the planner's cautious 0.6 MiB/s for a feed that has not run yet
    const plan = { totalBytes: 1024 * MIB, objects: 300, batches: 7 };

    // Act
    const typical = estimatePlanCost(plan);
    const slow = estimatePlanCost(plan, { perLambdaMBps: 0.6, source: "the planner's rate" });

    // Assess
    expect(slow.secondsPerBatch).toBeCloseTo(1024 / 7 / 0.6, 9);
    expect(slow.total.arm64).toBeGreaterThan(10 * typical.total.arm64);
    expect(costAssumptions(slow).join('\n')).toContain("0.6 MiB/s per batch: the planner's rate");
  });
});

describe('Function: expressDurationCost', () => {
  it('charges the first 1,000 GB-hours at the full rate and the next 4,000 at half', () => {
    // Act
    const first = expressDurationCost(1000 * 3600);
    const more = expressDurationCost(2000 * 3600);
    const beyond = expressDurationCost(6000 * 3600);

    // Assess
    expect(first).toBeCloseTo(3_600_000 * 0.00001667, 6);
    expect(more).toBeCloseTo(first + 3_600_000 * 0.00000833, 6);
    expect(beyond).toBeCloseTo(first + 4 * 3_600_000 * 0.00000833 + 3_600_000 * 0.00000456, 6);
  });
});
