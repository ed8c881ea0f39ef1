import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
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
const table = (rows: string[][]): string => {
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
    'peak RSS = process.resourceUsage().maxRSS of the process that ran the timed work (Strata and',
    'baseline, local S3 included); a workload’s setup, if it has one, runs in a process of its own.',
  ].join('\n');

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
