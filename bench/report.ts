import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { type CostEstimate, LIMITS, PRICES } from '@strata/core/cost';
import type { Measurement } from './workload.js';

/** Where `npm run bench` leaves its results for CI and later runs to compare. */
export const RESULTS_PATH = '.strata/bench/results.json';

const integer = (value: number): string => Math.round(value).toLocaleString('en-US');

const perSecond = (m: Measurement, ms: number | undefined): string =>
  ms === undefined || ms <= 0 ? '—' : `${integer(m.amount / (ms / 1000))} ${m.unit}/s`;

const row = (m: Measurement): string[] => [
  m.workload,
  `${integer(m.amount)} ${m.unit}`,
  `${integer(m.strataMs)} ms`,
  perSecond(m, m.strataMs),
  m.baselineMs === undefined ? '—' : `${integer(m.baselineMs)} ms`,
  perSecond(m, m.baselineMs),
  m.ratio === undefined
    ? '—'
    : `${m.ratio.toFixed(2)}×${m.baselineName ? ` ${m.baselineName}` : ''}${m.target ? ` (target ≥ ${m.target}×)` : ''}`,
  `${integer(m.peakRssMb)} MB${m.peakRssTargetMb ? ` (target ≤ ${integer(m.peakRssTargetMb)} MB)` : ''}`,
  [m.baseline, m.notes].filter(Boolean).join('; '),
];

/** Left-aligned text columns, numbers right-aligned. */
export const table = (rows: string[][]): string => {
  const widths =
    rows[0]?.map((_, c) => Math.max(...rows.map((cells) => (cells[c] ?? '').length))) ?? [];
  const numeric = (cell: string) => /^[\d,.]+(×| |$)/.test(cell);
  return rows
    .map((cells, r) =>
      cells
        .map((cell, c) =>
          r > 0 && numeric(cell) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)
        )
        .join('  ')
        .trimEnd()
    )
    .join('\n');
};

/** The results table, with a line on how to read the ratio. */
export const formatReport = (
  results: readonly Measurement[],
  options: { scale: number; repeat: number }
): string =>
  [
    `Strata benchmarks — TPC-H scale ${options.scale}, median of ${options.repeat} timed runs after one warm-up;`,
    'each workload runs in its own process, with its baseline measured in that same process.',
    '',
    table([
      [
        'workload',
        'amount',
        'strata',
        'strata rate',
        'baseline',
        'baseline rate',
        'ratio',
        'peak RSS',
        'baseline / notes',
      ],
      ...results.map(row),
    ]),
    '',
    'ratio = Strata throughput ÷ baseline throughput, both measured in the same run:',
    '1.00× means as fast as the baseline, 0.50× means half its throughput (twice its time).',
    'peak RSS = process.resourceUsage().maxRSS of the process that ran the timed work; the flatten',
    'workloads take it after Strata’s runs, before their baselines, and run local S3 and the ledger in',
    'a process of their own. A workload’s setup, if it has one, runs in a process of its own too.',
  ].join('\n');

/** The results a previous run left at {@link RESULTS_PATH}, if any. */
export const readResults = async (): Promise<
  { at: string; results: Measurement[] } | undefined
> => {
  try {
    return JSON.parse(await readFile(RESULTS_PATH, 'utf8'));
  } catch {
    return undefined;
  }
};

/** Writes the results as JSON to {@link RESULTS_PATH}. */
export const writeResults = async (
  results: readonly Measurement[],
  options: { scale: number; repeat: number }
): Promise<string> => {
  await mkdir(dirname(RESULTS_PATH), { recursive: true });
  await writeFile(
    RESULTS_PATH,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpus: availableParallelism(),
        options,
        results,
      },
      null,
      2
    )}\n`
  );
  return RESULTS_PATH;
};

const money = (dollars: number): string =>
  dollars < 100 ? `$${dollars.toFixed(2)}` : `$${integer(dollars)}`;

/** Seconds as the largest unit that keeps the number readable. */
export const duration = (seconds: number): string =>
  seconds < 120
    ? `${seconds.toFixed(0)} s`
    : seconds < 7200
      ? `${(seconds / 60).toFixed(0)} min`
      : seconds < 172_800
        ? `${(seconds / 3600).toFixed(1)} h`
        : `${(seconds / 86_400).toFixed(1)} d`;

/** The cost and time model as tables, with every assumption it rests on. */
export const formatCostModel = (estimate: CostEstimate): string => {
  const { inputs } = estimate;
  const mib = 1024 ** 2;
  const tib = 1024 ** 4;
  const vcpus = inputs.memoryMb / inputs.mbPerVcpu;
  return [
    `Cost and time model: ${(inputs.totalBytes / tib).toFixed(0)} TiB of nested JSON in ${integer(inputs.objects)} objects (${(inputs.totalBytes / inputs.objects / mib).toFixed(1)} MiB each on average)`,
    `from ${inputs.source}: ${inputs.perCoreMBps.toFixed(1)} MiB/s per core → ${estimate.perLambdaMBps.toFixed(1)} MiB/s per ${integer(inputs.memoryMb)} MB Lambda;`,
    `${integer(estimate.batches)} batches of ${(inputs.batchBytes / mib).toFixed(0)} MiB, ${duration(estimate.secondsPerBatch)} each. Prices: ${PRICES.asOf}.`,
    '',
    table([
      ['item', 'quantity', 'arm64', 'x86'],
      ...estimate.lines.map((l) => [
        l.item,
        `${integer(l.quantity)} ${l.unit}`,
        money(l.arm64),
        money(l.x86),
      ]),
      ['total', '', money(estimate.total.arm64), money(estimate.total.x86)],
    ]),
    '',
    table([
      ['concurrency', 'in flight', 'bound by', 'wall time (planning included)'],
      ...estimate.wall.map((w) => [
        integer(w.concurrency),
        integer(w.effective),
        w.boundBy,
        duration(w.seconds),
      ]),
    ]),
    '',
    `AWS Glue G.1X for comparison: ${integer(estimate.glue.dpuHours)} DPU-hours × $${PRICES.gluePerDpuHour} = ${money(estimate.glue.cost)}, ${duration(estimate.glue.seconds)} on ${inputs.glueWorkers} workers`,
    `(assumed ${inputs.glueMBpsPerDpu} MiB/s per DPU; per-second billing, 1-minute minimum, at least 2 workers).`,
    ...estimate.warnings.map((w) => `warning: ${w}`),
    '',
    'Assumptions:',
    `- The per-core rate was measured on this machine (local S3 in another process, one DuckDB thread); Graviton (arm64) cores are assumed as fast.`,
    `- ${integer(inputs.memoryMb)} MB buys ${vcpus.toFixed(1)} vCPU (one per ${integer(inputs.mbPerVcpu)} MB); DuckDB runs ${inputs.threadsPerVcpu} thread per vCPU, each added thread at ${inputs.scalingEfficiency} of linear (DuckDB measured 105 → 166 MB/s from 1 to 2 threads).`,
    `- One FlattenBatch invocation and one STANDARD child execution per planned batch (no ItemBatcher), no retries; next-fit packing waste is ignored. As EXPRESS the children would cost ${money(estimate.children.express)} instead of ${money(estimate.children.standard)}, but end at ${LIMITS.expressTimeoutSeconds} s.`,
    `- S3: one GET per raw object (its copy takes the planned size, so no HEAD below 5 GiB); ${inputs.outputPartsPerBatch} Parquet parts per batch (the day × mode partitions a batch touches) plus one schema fragment, each under the multipart threshold; one COPY + one free DELETE per object for raw-processed/; storage, ResultWriter and quarantine objects left out; no data transfer charge within the region.`,
    `- S3 serves ${integer(LIMITS.s3GetPerPrefix)} GET and ${integer(LIMITS.s3PutCopyPerPrefix)} PUT/COPY requests per second per prefix; each object is one GET under raw/ and one COPY into raw-processed/, each side ${inputs.rawPrefixes} prefix (S3 splits busy prefixes over time, answering 503 SlowDown until it has).`,
    `- Lambda runs ${integer(LIMITS.lambdaConcurrency)} concurrent executions per account and region by default (more needs a quota increase); a Distributed Map runs at most ${integer(LIMITS.mapConcurrency)} children at once; planning lists ${integer(Math.ceil(inputs.objects / 1000))} pages at ${inputs.planSecondsPerPage} s each.`,
    `- Glue's ${inputs.glueMBpsPerDpu} MiB/s per DPU (4 vCPU) is an assumption, not a measurement (no Spark here): about 20 MiB/s per vCPU for Spark's JSON reader with a declared schema. Field reports of Spark ingesting many ~1 MiB JSON files see far less per core, so read the Glue line as a lower bound on its cost.`,
  ].join('\n');
};
