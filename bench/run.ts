import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { Measurement, Workload } from './workload.js';
import { extractLineitem } from './workloads/extractLineitem.js';
import { planBacklog } from './workloads/planBacklog.js';
import { silverStage } from './workloads/silverStage.js';

const WORKLOADS: readonly Workload[] = [silverStage, extractLineitem, planBacklog];

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.1' },
    repeat: { type: 'string', default: '5' },
    only: { type: 'string' },
    child: { type: 'boolean' },
  },
});

/**
 * Runs one workload in a child process, so each peak RSS is that workload's own (the kernel's
 * high-water mark never goes down within a process).
 */
const runIsolated = async (workload: Workload): Promise<Measurement> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--child',
      '--only',
      workload.name,
      '--scale',
      String(values.scale),
      '--repeat',
      String(values.repeat),
    ],
    { maxBuffer: 16 * 1024 * 1024 }
  );
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Measurement;
};

const format = (m: Measurement): string[] => {
  const perSecond = (ms: number) =>
    `${Math.round(m.amount / (ms / 1000)).toLocaleString('en-US')} ${m.unit}/s`;
  return [
    m.workload,
    m.amount.toLocaleString('en-US'),
    `${m.strataMs.toFixed(0)} ms (${perSecond(m.strataMs)})`,
    m.baselineMs === undefined ? '—' : `${m.baselineMs.toFixed(0)} ms (${perSecond(m.baselineMs)})`,
    m.ratio === undefined
      ? '—'
      : `${m.ratio.toFixed(2)}×${m.target ? ` (target ≥ ${m.target}×)` : ''}`,
    `${m.peakRssMb.toFixed(0)} MB`,
    m.notes ?? m.baseline ?? '',
  ];
};

const table = (rows: string[][]): string => {
  const widths =
    rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd()
    )
    .join('\n');
};

const main = async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const options = { scale: Number(values.scale), repeat: Number(values.repeat) };
  const selected = WORKLOADS.filter((w) => !values.only || w.name === values.only);
  if (selected.length === 0) throw new Error(`no workload named ${values.only}`);
  if (values.child) {
    const dir = await mkdtemp(join(tmpdir(), 'strata-bench-'));
    try {
      const [workload] = selected;
      if (workload) console.log(JSON.stringify(await workload.run({ ...options, dir })));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return;
  }
  const results: Measurement[] = [];
  for (const workload of selected) {
    console.log(`… ${workload.name}: ${workload.description}`);
    results.push(await runIsolated(workload));
  }
  console.log(
    `\nStrata benchmarks — TPC-H scale ${options.scale}, median of ${options.repeat} runs after a warm-up; each workload in its own process, its baseline in the same one\n`
  );
  console.log(
    table([
      ['workload', 'amount', 'strata', 'baseline', 'ratio', 'peak RSS', 'baseline / notes'],
      ...results.map(format),
    ])
  );
  console.log(
    '\nratio = Strata throughput ÷ baseline throughput (1.00× = as fast as the baseline).'
  );
  await mkdir('.strata/bench', { recursive: true });
  await writeFile(
    '.strata/bench/results.json',
    JSON.stringify({ at: new Date().toISOString(), options, results }, null, 2)
  );
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
