import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorName } from '@strata/core/errors';
import { weekPrefix } from '@strata/core/plan-backlog';
import type { ReconcileResult } from '@strata/core/reconcile';
import { BACKLOG_FEEDS } from './backlog/index.js';
import {
  backfillFeeds,
  backfillProblems,
  backfillSection,
  type CliOutput,
  type FeedBackfill,
  prepareBacklog,
} from './cli/backfillFeeds.js';
import { count, failureReason, parseSize } from './cli/format.js';
import { progressPrinter } from './cli/progress.js';
import { summaryTable } from './cli/summaryTable.js';
import { EmbeddedRuntime, LOCAL_BUCKET } from './runtime/EmbeddedRuntime.js';
import { type SummaryRow, summarizeRun } from './runtime/summarizeRun.js';

const USAGE = `Usage: strata <command> [options]

Commands:
  start               backfill a generated nested-JSON backlog, then run the whole pipeline
                      locally on generated TPC-H data
  backfill            only the backfill: generate a nested-JSON backlog and run the backfill
                      state machine over each feed
  weekly-sync         run the weekly-sync state machine over one ISO week's drops in the lake

Options:
  --dir <path>        where the local lake, warehouse, DLQ and alert logs live (default .strata)
  --scale <factor>    TPC-H scale factor of the generated warehouse (default 0.01)
  --fresh             start from an empty lake instead of the previous run's
  --entities <a,b>    extract only these configured entities
  --size <bytes>      backlog size, e.g. 256KB, 64MB or 1GB (default 16MB); a lake keeps the
                      backlog it was given first, so a different size needs --fresh
  --no-backfill       start: skip the backfill and run only the pipeline
  --week <date>       weekly-sync: a date in the ISO week to sync, e.g. 2023-01-28
  --feeds <a,b>       weekly-sync: the feeds to sync (default ${BACKLOG_FEEDS.join(',')})
  --verbose           print the handlers' structured logs too
  --help              show this help`;

type Values = Record<string, string | boolean | undefined>;

const write: CliOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

const DEFAULT_SIZE = '16MB';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * Starts the embedded runtime for one command and stops it afterwards, also on Ctrl-C, so
 * local S3 never outlives the CLI.
 */
const withRuntime = async (
  values: Values,
  scale: number | undefined,
  work: (runtime: EmbeddedRuntime) => Promise<number>
): Promise<number> => {
  // The handlers' loggers read this when they are first imported, which is after this point.
  process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? 'INFO' : 'SILENT';
  const dir = String(values.dir ?? '.strata');
  console.log(`Strata — embedded runtime in ${dir}`);
  const runtime = await EmbeddedRuntime.start({ dir, scale, fresh: Boolean(values.fresh) });
  const stop = async (signal: string) => {
    console.error(`\n${signal}: stopping local S3`);
    await runtime.stop();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const dead = runtime.deadHolder;
    if (dead) {
      console.log(
        `the run started at ${dead.startedAt} (pid ${dead.pid}) ended without stopping; its ${dead.leasesEnded} claim(s) are released, so this run takes its objects over and clears what it left`
      );
    }
    console.log(`local S3 at ${runtime.s3.endpoint}, warehouse ${runtime.warehousePath}\n`);
    return await work(runtime);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await runtime.stop();
  }
};

/** Generates (or reuses) the backlog and backfills every feed in it. */
const runBackfill = async (runtime: EmbeddedRuntime, values: Values, size: number) => {
  const began = Date.now();
  const backlog = await prepareBacklog(
    runtime,
    { targetBytes: size, sizeGiven: values.size !== undefined },
    write
  );
  const runs = await backfillFeeds(runtime, backlog.feeds, write);
  return { runs, wallMs: Date.now() - began };
};

/** Prints each backfill problem last, on stderr, where a failing exit code sends people. */
const reportProblems = (runtime: EmbeddedRuntime, runs: readonly FeedBackfill[]): number => {
  const problems = backfillProblems(runs);
  for (const problem of problems) console.error(`Backfill FAILED for ${problem}`);
  if (runs.some((run) => run.status === 'FAILED')) {
    console.error(`dead letters written to ${join(runtime.dir, 'dead-letter-queue.jsonl')}`);
  }
  return problems.length;
};

const LAYER_ORDER: readonly SummaryRow['layer'][] = [
  'bronze',
  'silver',
  'gold',
  'features',
  'quarantine',
];

const start = async (values: Values, size: number, scale: number | undefined) => {
  const began = Date.now();
  return withRuntime(values, scale, async (runtime) => {
    const backfill =
      values.backfill === false ? undefined : await runBackfill(runtime, values, size);
    const runs = backfill?.runs ?? [];

    console.log('\n▶ pipeline');
    const pipelineBegan = Date.now();
    const entities = typeof values.entities === 'string' ? values.entities.split(',') : undefined;
    const outcome = await runtime.execute('pipeline', {
      input: entities ? { entities } : {},
      onEvent: progressPrinter(write.out),
    });
    const pipelineWall = Date.now() - pipelineBegan;
    if (backfill) console.log(`\n${backfillSection(runs, backfill.wallMs)}`);

    if (outcome.status === 'FAILED') {
      console.error(`\nPipeline FAILED with ${outcome.error}: ${failureReason(outcome.cause)}`);
      console.error(`dead letter written to ${join(runtime.dir, 'dead-letter-queue.jsonl')}`);
      console.error(`alert written to ${join(runtime.dir, 'alerts.log')}`);
      console.error(`wall time ${seconds(Date.now() - began)}`);
      reportProblems(runtime, runs);
      return 1;
    }
    const run = (outcome.output as { run: { runId: string; runStartedAt: string } }).run;
    const config = (await runtime.defaultConfig()) as { feature_group: string };
    const rows = [
      ...(await summarizeRun(runtime.store, { ...run, featureGroup: config.feature_group })),
      ...runs.flatMap((feed) => (feed.status === 'SUCCEEDED' ? feed.summary.rows : [])),
    ].sort((a, b) => LAYER_ORDER.indexOf(a.layer) - LAYER_ORDER.indexOf(b.layer));
    console.log(`\nPipeline SUCCEEDED — run ${run.runId}, wall time ${seconds(pipelineWall)}\n`);
    console.log(summaryTable(rows, `s3://${LOCAL_BUCKET}/`));
    const online = await runtime.featureStore.onlineCount(config.feature_group);
    console.log(
      `\nOnline feature store: ${online.toLocaleString('en-US')} records in ${join(runtime.dir, 'online-store.duckdb')}`
    );
    console.log(
      `Objects are in local S3 (${runtime.s3.endpoint}, bucket ${LOCAL_BUCKET}); on disk under ${join(runtime.dir, 's3', LOCAL_BUCKET)}`
    );
    console.log(`\nTotal wall time ${seconds(Date.now() - began)}`);
    return reportProblems(runtime, runs) === 0 ? 0 : 1;
  });
};

const backfill = async (values: Values, size: number) =>
  withRuntime(values, undefined, async (runtime) => {
    const { runs, wallMs } = await runBackfill(runtime, values, size);
    console.log(`\n${backfillSection(runs, wallMs)}\n`);
    const rows = runs.flatMap((feed) => (feed.status === 'SUCCEEDED' ? feed.summary.rows : []));
    console.log(summaryTable(rows, `s3://${LOCAL_BUCKET}/`));
    return reportProblems(runtime, runs) === 0 ? 0 : 1;
  });

const weeklySync = async (values: Values): Promise<number> => {
  const day = new Date(String(values.week ?? ''));
  if (Number.isNaN(day.getTime())) {
    console.error(`--week: "${values.week ?? ''}" must be a date, e.g. 2023-01-28`);
    return 2;
  }
  const feeds = typeof values.feeds === 'string' ? values.feeds.split(',') : [...BACKLOG_FEEDS];
  const began = Date.now();
  return withRuntime(values, undefined, async (runtime) => {
    // The schedule syncs the week before its time: a week after the given day is that day's week.
    const scheduledTime = new Date(day.getTime() + 7 * 86_400_000).toISOString();
    const outcome = await runtime.execute('weekly-sync', {
      executionName: `weekly-sync-${new Date().toISOString().replace(/[:.]/g, '-')}`,
      input: { feeds, scheduledTime },
      onEvent: progressPrinter(write.out),
    });
    const wall = `wall time ${seconds(Date.now() - began)}`;
    if (outcome.status === 'FAILED') {
      console.error(`weekly-sync FAILED with ${outcome.error}: ${failureReason(outcome.cause)}`);
      console.error(wall);
      return 1;
    }
    const { feedRuns } = outcome.output as {
      feedRuns: { feed: string; plan: { objects: number }; report: ReconcileResult }[];
    };
    for (const { feed, plan, report } of feedRuns) {
      console.log(
        `weekly-sync ${weekPrefix(feed, day)}: ${plan.objects} object(s), ${report.batches.succeeded} batch(es), ${count(report.recordsRead)} records read = ${count(report.rowsWritten)} rows written + ${count(report.recordsQuarantined)} quarantined; ${report.batches.failed + report.batches.pending} failed batch(es); report s3://${LOCAL_BUCKET}/${report.reportKey}`
      );
    }
    console.log(`\n${wall}`);
    return 0;
  });
};

const main = async (): Promise<number> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    allowNegative: true,
    options: {
      dir: { type: 'string' },
      scale: { type: 'string' },
      fresh: { type: 'boolean' },
      entities: { type: 'string' },
      size: { type: 'string' },
      backfill: { type: 'boolean' },
      week: { type: 'string' },
      feeds: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === 'weekly-sync') return weeklySync(values);
  if (command !== 'start' && command !== 'backfill') {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && !(scale > 0 && scale <= 10)) {
    console.error(`--scale: "${values.scale}" must be a number in (0, 10]`);
    return 2;
  }
  const size = parseSize(values.size ?? DEFAULT_SIZE);
  if (!size) {
    console.error(`--size: "${values.size}" must look like 256KB, 64MB or 1GB`);
    return 2;
  }
  return command === 'start' ? start(values, size, scale) : backfill(values, size);
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`strata: ${error instanceof Error ? error.message : String(error)}`);
    // A bad option or lake state is the caller's to fix, like a bad flag.
    process.exitCode = error instanceof Error && error.name === ErrorName.BadInput ? 2 : 1;
  }
);
