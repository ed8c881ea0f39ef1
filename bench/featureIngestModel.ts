/**
 * What ingesting N changed feature records into SageMaker Feature Store would take and cost at
 * the account's PutRecord throughput, with the settings Strata deploys. Pure arithmetic, so it
 * is unit-tested; the assumptions are inputs, printed with the result.
 */
import { PRICES } from '@strata/core/cost';

export interface FeatureIngestModelInputs {
  records: number;
  /** PutRecord calls per second the account allows (Feature Store's default quota, per API). */
  accountTps: number;
  /** One PutRecord's round trip, ms (same-region Lambda → Feature Store runtime). */
  latencyMs: number;
  /** The sink's bound on calls in flight per invocation (SageMakerFeatureSink). */
  maxInFlight: number;
  /** Ranges sent at once (the Map's MaxConcurrency in statemachines/pipeline.asl.json). */
  mapConcurrency: number;
  recordsPerRange: number;
  recordsPerBatch: number;
  /** A record's size as PutRecord sends it: one write request unit per started KiB. */
  recordBytes: number;
  /** Records/s this machine's local run measured, for the local comparison line. */
  localRecordsPerSecond?: number;
  /** The FeatureIngest function's memory (stacks/pipeline.ts). */
  memoryMb: number;
  /** us-east-1 on-demand price per million write request units (assumed, see the notes). */
  pricePerMillionWru: number;
}

export const DEFAULT_FEATURE_INPUTS: FeatureIngestModelInputs = {
  records: 10_000_000,
  accountTps: 10_000,
  latencyMs: 15,
  maxInFlight: 64,
  mapConcurrency: 4,
  recordsPerRange: 20_000,
  recordsPerBatch: 500,
  recordBytes: 200,
  memoryMb: 1024,
  pricePerMillionWru: 1.25,
};

export interface FeatureIngestEstimate {
  inputs: FeatureIngestModelInputs;
  ranges: number;
  /** What the Map's invocations could send with nothing pushing back, records/s. */
  demandPerSecond: number;
  /** What they send: the lesser of demand and the account's quota. */
  ratePerSecond: number;
  wallSeconds: number;
  /** One range's invocation at that rate, s: must stay well inside 900 s. */
  rangeSeconds: number;
  cost: { writeUnits: number; lambda: number; stepFunctions: number; s3: number; total: number };
}

/**
 * Time and cost of one run that sends `records` changed records.
 *
 * @param inputs - the assumptions
 */
export const estimateFeatureIngest = (inputs: FeatureIngestModelInputs): FeatureIngestEstimate => {
  const ranges = Math.ceil(inputs.records / inputs.recordsPerRange);
  const perInvocation = inputs.maxInFlight * (1000 / inputs.latencyMs);
  const demandPerSecond = perInvocation * Math.min(inputs.mapConcurrency, ranges);
  const ratePerSecond = Math.min(demandPerSecond, inputs.accountTps);
  const wallSeconds = inputs.records / ratePerSecond;
  const rangeSeconds =
    inputs.recordsPerRange / (ratePerSecond / Math.min(inputs.mapConcurrency, ranges));
  const wru = inputs.records * Math.ceil(inputs.recordBytes / 1024);
  const invocations = ranges + 2;
  const gbSeconds =
    (wallSeconds * Math.min(inputs.mapConcurrency, ranges) * inputs.memoryMb) / 1024;
  const lambda = gbSeconds * PRICES.lambdaPerGbSecond.arm64 + invocations * PRICES.lambdaPerRequest;
  // Per range: the Map iteration's and the Task's entered/exited, about four transitions.
  const stepFunctions = (ranges * 4 + 6) * PRICES.standardPerTransition;
  const batches = Math.ceil(inputs.records / inputs.recordsPerBatch);
  // A PUT per batch marker and range file and marker; a GET per marker checked and range read.
  const s3 =
    (batches + 2 * ranges) * PRICES.s3PerPutCopyList + (batches + 3 * ranges) * PRICES.s3PerGet;
  const writeUnits = (wru / 1e6) * inputs.pricePerMillionWru;
  return {
    inputs,
    ranges,
    demandPerSecond,
    ratePerSecond,
    wallSeconds,
    rangeSeconds,
    cost: {
      writeUnits,
      lambda,
      stepFunctions,
      s3,
      total: writeUnits + lambda + stepFunctions + s3,
    },
  };
};

const usd = (value: number) => `$${value.toFixed(value < 1 ? 3 : 2)}`;
const n = (value: number) => Math.round(value).toLocaleString('en-US');

/** The estimate as the lines bench/RESULTS.md keeps. */
export const formatFeatureIngestModel = (estimate: FeatureIngestEstimate): string => {
  const { inputs: i, cost } = estimate;
  const local = i.localRecordsPerSecond
    ? `\n- this machine's local store took ${n(i.localRecordsPerSecond)} records/s: ${n(i.records / i.localRecordsPerSecond)} s for the same records`
    : '';
  return `Feature ingest of ${n(i.records)} changed records (model, ${PRICES.asOf}; WRU price assumed):
- ${n(estimate.ranges)} ranges of ${n(i.recordsPerRange)}; ${i.mapConcurrency} at once × ${i.maxInFlight} calls in flight at ${i.latencyMs} ms could send ${n(estimate.demandPerSecond)}/s; the account's ${n(i.accountTps)} PutRecord/s caps it at ${n(estimate.ratePerSecond)}/s
- wall time ${n(estimate.wallSeconds)} s (${(estimate.wallSeconds / 60).toFixed(1)} min); one range ${n(estimate.rangeSeconds)} s of the function's 900 s${local}
- cost ${usd(cost.total)}: write units ${usd(cost.writeUnits)} (${n(i.records * Math.ceil(i.recordBytes / 1024))} WRU at $${i.pricePerMillionWru}/M), Lambda ${usd(cost.lambda)}, Step Functions ${usd(cost.stepFunctions)}, S3 markers ${usd(cost.s3)}`;
};
