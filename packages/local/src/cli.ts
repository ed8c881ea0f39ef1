import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { weekPrefix } from '@strata/core/plan-backlog';
import type { ReconcileResult } from '@strata/core/reconcile';
import { BACKLOG_FEEDS, generateBacklog } from './backlog/index.js';
import { progressPrinter } from './cli/progress.js';
import { summaryTable } from './cli/summaryTable.js';
import { EmbeddedRuntime, LOCAL_BUCKET } from './runtime/EmbeddedRuntime.js';
import { summarizeRun } from './runtime/summarizeRun.js';

const USAGE = `Usage: strata <command> [options]

Commands:
  start               run the whole pipeline locally on generated TPC-H data
  backfill            generate a nested-JSON backlog and run the backfill state machine over it
  weekly-sync         run the weekly-sync state machine over one ISO week's drops in the lake

Options:
  --dir <path>        where the local lake, warehouse, DLQ and alert logs live (default .strata)
  --scale <factor>    TPC-H scale factor of the generated warehouse (default 0.01)
  --fresh             start from an empty lake instead of the previous run's
  --entities <a,b>    extract only these configured entities
  --size <bytes>      backfill: backlog size, e.g. 64MB or 1GB (default 16MB)
  --week <date>       weekly-sync: a date in the ISO week to sync, e.g. 2023-01-28
  --feeds <a,b>       weekly-sync: the feeds to sync (default ${BACKLOG_FEEDS.join(',')})
  --verbose           print the handlers' structured logs too
  --help              show this help`;

/** The failure's own message, unwrapped from the Lambda error envelope when there is one. */
const reason = (cause: string): string => {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return parsed.errorMessage ?? cause;
  } catch {
    return cause;
  }
};

const start = async (values: Record<string, string | boolean | undefined>): Promise<number> => {
  const began = Date.now();
  // The handlers' loggers read this when they are first imported, which is after this point.
  process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? 'INFO' : 'SILENT';
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && !(scale > 0 && scale <= 10)) {
    console.error(`--scale: "${values.scale}" must be a number in (0, 10]`);
    return 2;
  }
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
    console.log(`local S3 at ${runtime.s3.endpoint}, warehouse ${runtime.warehousePath}\n`);
    const entities = typeof values.entities === 'string' ? values.entities.split(',') : undefined;
    const outcome = await runtime.execute('pipeline', {
      input: entities ? { entities } : {},
      onEvent: progressPrinter((line) => console.log(line)),
    });
    const wall = ((Date.now() - began) / 1000).toFixed(1);
    if (outcome.status === 'FAILED') {
      console.error(`\nPipeline FAILED with ${outcome.error}: ${reason(outcome.cause)}`);
      console.error(`dead letter written to ${join(runtime.dir, 'dead-letter-queue.jsonl')}`);
      console.error(`alert written to ${join(runtime.dir, 'alerts.log')}`);
      console.error(`wall time ${wall}s`);
      return 1;
    }
    const run = (outcome.output as { run: { runId: string; runStartedAt: string } }).run;
    const config = (await runtime.defaultConfig()) as { feature_group: string };
    const rows = await summarizeRun(runtime.store, { ...run, featureGroup: config.feature_group });
    console.log(`\nPipeline SUCCEEDED — run ${run.runId}, wall time ${wall}s\n`);
    console.log(summaryTable(rows, `s3://${LOCAL_BUCKET}/`));
    const online = await runtime.featureStore.onlineCount(config.feature_group);
    console.log(
      `\nOnline feature store: ${online.toLocaleString('en-US')} records in ${join(runtime.dir, 'online-store.duckdb')}`
    );
    console.log(
      `\nObjects are in local S3 (${runtime.s3.endpoint}, bucket ${LOCAL_BUCKET}); on disk under ${join(runtime.dir, 's3', LOCAL_BUCKET)}`
    );
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await runtime.stop();
  }
};

/** `64MB`, `1GB`, `500KB` or plain bytes. */
const parseSize = (text: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[
    (match[2] ?? 'B').toUpperCase() as 'B'
  ];
  return Math.round(Number(match[1]) * unit);
};

/** A reconciled backfill report as one line. */
const reportLine = (report: ReconcileResult): string => {
  const count = (n: number) => n.toLocaleString('en-US');
  return `${report.batches.succeeded} batch(es), ${count(report.recordsRead)} records read = ${count(report.rowsWritten)} rows written + ${count(report.recordsQuarantined)} quarantined; ${report.failedBatches.length} failed batch(es); report s3://${LOCAL_BUCKET}/${report.reportKey}`;
};

const backfill = async (values: Record<string, string | boolean | undefined>): Promise<number> => {
  const began = Date.now();
  process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? 'INFO' : 'SILENT';
  const size = parseSize(String(values.size ?? '16MB'));
  if (!size) {
    console.error(`--size: "${values.size}" must look like 64MB or 1GB`);
    return 2;
  }
  const dir = String(values.dir ?? '.strata');
  const runtime = await EmbeddedRuntime.start({ dir, fresh: Boolean(values.fresh) });
  try {
    const backlog = await generateBacklog({ store: runtime.store, targetBytes: size });
    console.log(
      `generated ${backlog.objects.length} raw objects, ${(backlog.bytes / 1024 ** 2).toFixed(1)} MB, ${backlog.records.toLocaleString('en-US')} records (${backlog.malformed} malformed)`
    );
    const feeds = [...new Set(backlog.objects.map((object) => object.key.split('/')[1] ?? ''))];
    let failed = 0;
    for (const feed of feeds) {
      const outcome = await runtime.execute('backfill', {
        executionName: `backfill-${feed}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
        input: { feed, prefix: `raw/${feed}/all_historical_files/` },
        onEvent: progressPrinter((line) => console.log(line)),
      });
      if (outcome.status === 'FAILED') {
        failed++;
        console.error(`backfill ${feed} FAILED with ${outcome.error}: ${reason(outcome.cause)}`);
        continue;
      }
      const { report } = (outcome.output as { reconcile: { report: ReconcileResult } }).reconcile;
      console.log(`backfill ${feed}: ${reportLine(report)}\n`);
    }
    console.log(
      `\nwall time ${((Date.now() - began) / 1000).toFixed(1)}s; silver under s3://${LOCAL_BUCKET}/silver/`
    );
    return failed === 0 ? 0 : 1;
  } finally {
    await runtime.stop();
  }
};

const weeklySync = async (
  values: Record<string, string | boolean | undefined>
): Promise<number> => {
  const began = Date.now();
  process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? 'INFO' : 'SILENT';
  const day = new Date(String(values.week ?? ''));
  if (Number.isNaN(day.getTime())) {
    console.error(`--week: "${values.week ?? ''}" must be a date, e.g. 2023-01-28`);
    return 2;
  }
  const feeds = typeof values.feeds === 'string' ? values.feeds.split(',') : [...BACKLOG_FEEDS];
  const runtime = await EmbeddedRuntime.start({
    dir: String(values.dir ?? '.strata'),
    fresh: Boolean(values.fresh),
  });
  try {
    // The schedule syncs the week before its time: a week after the given day is that day's week.
    const scheduledTime = new Date(day.getTime() + 7 * 86_400_000).toISOString();
    const outcome = await runtime.execute('weekly-sync', {
      executionName: `weekly-sync-${new Date().toISOString().replace(/[:.]/g, '-')}`,
      input: { feeds, scheduledTime },
      onEvent: progressPrinter((line) => console.log(line)),
    });
    const wall = `wall time ${((Date.now() - began) / 1000).toFixed(1)}s`;
    if (outcome.status === 'FAILED') {
      console.error(`weekly-sync FAILED with ${outcome.error}: ${reason(outcome.cause)}\n${wall}`);
      return 1;
    }
    const { feedRuns } = outcome.output as {
      feedRuns: { feed: string; plan: { objects: number }; report: ReconcileResult }[];
    };
    for (const { feed, plan, report } of feedRuns) {
      console.log(
        `weekly-sync ${weekPrefix(feed, day)}: ${plan.objects} object(s), ${reportLine(report)}`
      );
    }
    console.log(`\n${wall}`);
    return 0;
  } finally {
    await runtime.stop();
  }
};

const main = async (): Promise<number> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      scale: { type: 'string' },
      fresh: { type: 'boolean' },
      entities: { type: 'string' },
      size: { type: 'string' },
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
  if (command === 'start') return start(values);
  if (command === 'backfill') return backfill(values);
  if (command === 'weekly-sync') return weeklySync(values);
  console.error(`unknown command "${command}"\n\n${USAGE}`);
  return 2;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`strata: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
);
