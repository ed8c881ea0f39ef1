import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { DEFAULT_COST_INPUTS, estimateCost } from '@strata/core/cost';
import {
  DEFAULT_FEATURE_INPUTS,
  estimateFeatureIngest,
  formatFeatureIngestModel,
} from './featureIngestModel.js';
import { formatCostModel, formatReport, readResults, writeResults } from './report.js';
import type { BenchOptions, Measurement, Workload } from './workload.js';
import { extractLineitem } from './workloads/extractLineitem.js';
import { featureIngest } from './workloads/featureIngest.js';
import { flattenBacklog, flattenSmallFiles } from './workloads/flattenBacklog.js';
import { flattenLargeFile } from './workloads/flattenLargeFile.js';
import { flattenWide } from './workloads/flattenWide.js';
import { planBacklog } from './workloads/planBacklog.js';
import { silverStage } from './workloads/silverStage.js';

/** Every workload `npm run bench` knows; add new ones here. */
const WORKLOADS: readonly Workload[] = [
  silverStage,
  extractLineitem,
  planBacklog,
  flattenBacklog,
  flattenSmallFiles,
  flattenLargeFile,
  flattenWide,
  featureIngest,
];

const USAGE = `npm run bench -- [--scale <TPC-H scale, default 0.1>] [--repeat <n, default 5>] [--only <workload>]
  [--backlog-size <raw bytes of the flatten-backlog and flatten-small-files inputs, default 160MB>]
  [--flatten-size <bytes of the flatten-1gb input file, default 1GB>]
  [--wide-size <bytes of real webhook payloads flatten-wide reads, default 32MB>]
workloads: ${WORKLOADS.map((w) => w.name).join(', ')}`;

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.1' },
    repeat: { type: 'string', default: '5' },
    only: { type: 'string' },
    'backlog-size': { type: 'string', default: '160MB' },
    'flatten-size': { type: 'string', default: '1GB' },
    'wide-size': { type: 'string', default: '32MB' },
    child: { type: 'string' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const positive = (name: string, text: string | undefined, integer: boolean): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}\n${USAGE}`);
  }
  return value;
};

const UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;

/** `64MB`, `1GB`, `500KB` or plain bytes. */
const size = (name: string, text: string | undefined): number => {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text?.trim() ?? '');
  const unit = UNITS[(match?.[2]?.toUpperCase() ?? 'B') as keyof typeof UNITS];
  const bytes = Math.round(Number(match?.[1]) * unit);
  if (!match || !(bytes > 0)) throw new Error(`--${name} must look like 64MB or 1GB\n${USAGE}`);
  return bytes;
};

type Phase = 'setup' | 'run';

type CommonOptions = Omit<BenchOptions, 'dir'>;

/**
 * Runs one phase of a workload in a child process, so each peak RSS is that workload's own (the
 * kernel's high-water mark never goes down within a process). The child prints its result as
 * the last line of stdout; its stderr passes through.
 */
const runIsolated = async (
  workload: Workload,
  phase: Phase,
  options: BenchOptions
): Promise<string> => {
  const child = promisify(execFile)(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--child',
      phase,
      '--only',
      workload.name,
      '--scale',
      String(options.scale),
      '--repeat',
      String(options.repeat),
      '--backlog-size',
      String(options.backlogBytes),
      '--flatten-size',
      String(options.flattenBytes),
      '--wide-size',
      String(options.wideBytes),
      '--dir',
      options.dir,
    ],
    { maxBuffer: 16 * 1024 * 1024 }
  );
  child.child.stderr?.pipe(process.stderr);
  const { stdout } = await child;
  return stdout.trim().split('\n').pop() ?? '';
};

/** The child side of {@link runIsolated}. */
const runChild = async (workload: Workload, phase: Phase, options: BenchOptions) => {
  if (phase === 'setup') {
    await workload.setup?.(options);
    console.log('{}');
  } else {
    console.log(JSON.stringify(await workload.run(options)));
  }
};

/**
 * Strata's per-core flatten rate (MiB/s) for the cost model: from this run's flatten-backlog,
 * or else from the last saved run that had one.
 */
const flattenPerCore = async (
  results: readonly Measurement[]
): Promise<{ perCoreMBps: number; source: string } | undefined> => {
  const rate = (m: Measurement) => m.amount / (m.strataMs / 1000);
  const current = results.find((m) => m.workload === flattenBacklog.name);
  if (current) return { perCoreMBps: rate(current), source: 'flatten-backlog in this run' };
  const saved = await readResults();
  const previous = saved?.results.find((m) => m.workload === flattenBacklog.name);
  return previous
    ? { perCoreMBps: rate(previous), source: `flatten-backlog as saved on ${saved?.at}` }
    : undefined;
};

const main = async () => {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const options: CommonOptions = {
    scale: positive('scale', values.scale, false),
    repeat: positive('repeat', values.repeat, true),
    backlogBytes: size('backlog-size', values['backlog-size']),
    flattenBytes: size('flatten-size', values['flatten-size']),
    wideBytes: size('wide-size', values['wide-size']),
  };
  const selected = WORKLOADS.filter((w) => !values.only || w.name === values.only);
  if (selected.length === 0) throw new Error(`no workload named ${values.only}\n${USAGE}`);
  if (values.child) {
    const [workload] = selected;
    if (!workload || !values.dir || (values.child !== 'setup' && values.child !== 'run')) {
      throw new Error('--child setup|run needs --only and --dir');
    }
    await runChild(workload, values.child, { ...options, dir: values.dir });
    return;
  }
  const results: Measurement[] = [];
  const failed: string[] = [];
  for (const workload of selected) {
    const started = performance.now();
    console.log(`… ${workload.name}: ${workload.description}`);
    const dir = await mkdtemp(join(tmpdir(), `strata-bench-${workload.name}-`));
    try {
      if (workload.setup) await runIsolated(workload, 'setup', { ...options, dir });
      results.push(...[JSON.parse(await runIsolated(workload, 'run', { ...options, dir }))].flat());
      console.log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch {
      // One failed workload (its stderr already printed) should not cost the others' results.
      failed.push(workload.name);
      console.log(`  FAILED after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      process.exitCode = 1;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n${formatReport(results, options)}`);
  if (failed.length > 0) console.log(`\nfailed: ${failed.join(', ')} (see the errors above)`);
  const flatten = await flattenPerCore(results);
  if (flatten)
    console.log(`\n${formatCostModel(estimateCost({ ...DEFAULT_COST_INPUTS, ...flatten }))}`);
  const features = results.find((m) => m.workload === featureIngest.name);
  const localRecordsPerSecond = features && features.amount / (features.strataMs / 1000);
  console.log(
    `\n${formatFeatureIngestModel(estimateFeatureIngest({ ...DEFAULT_FEATURE_INPUTS, localRecordsPerSecond }))}`
  );
  console.log(`\nresults written to ${await writeResults(results, options)}`);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
