import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { ErrorName } from '@strata/core/errors';
import {
  backfillFeeds,
  backfillProblems,
  backfillSection,
  type CliOutput,
  type FeedBackfill,
  prepareBacklog,
} from './cli/backfillFeeds.js';
import { dryRunText, openSource } from './cli/backfillSource.js';
import { count, failureReason, formatBytes, parseSize } from './cli/format.js';
import { progressPrinter } from './cli/progress.js';
import { formatRows, openLake, type QueryFormat } from './cli/query.js';
import { writeRunReport } from './cli/report.js';
import { DEFAULT_S3_PORT, DEFAULT_SFN_PORT, parsePort, serve } from './cli/serve.js';
import {
  assertFeedName,
  backlogPrefix,
  planSourceFiles,
  uploadSourceFiles,
} from './cli/sourceFiles.js';
import { stageCommand } from './cli/stage.js';
import { lakeStatus } from './cli/status.js';
import { summaryTable } from './cli/summaryTable.js';
import { weeklySyncInput, weeklySyncReport } from './cli/weeklySync.js';
import { EmbeddedRuntime, LOCAL_BUCKET, lakeDirectory } from './runtime/EmbeddedRuntime.js';
import { type SummaryRow, summarizeRun } from './runtime/summarizeRun.js';
import { type LocalExecutions, serveLocalExecutions } from './sfn-api/localExecutions.js';
import { executionName, type StepFunctionsExecutions } from './sfn-api/StepFunctionsExecutions.js';

const USAGE = `Usage: strata <command> [options]

Commands:
  start               backfill a generated nested-JSON backlog, then run the whole pipeline
                      locally on generated TPC-H data
  backfill            only the backfill: generate a nested-JSON backlog and run the backfill
                      state machine over each feed; with --feed, backfill that feed instead,
                      from your own files with --from
  weekly-sync         run the weekly-sync state machine over one ISO week's drops in the lake
  query [<sql>]       run SQL over the local lake: silver.<dataset>, gold.<model>,
                      quarantine.<entity>, strata.ledger; without SQL, a prompt
  features get <id>   print a record of the local online feature store as JSON
  status              each feed's raw objects by state, and its last backfill runs
  serve               keep local S3 on a fixed port and serve the Step Functions API over the
                      embedded runtime, for @aws-sdk/client-sfn or aws stepfunctions
                      --endpoint-url, until Ctrl-C
  report <run>        one backfill run (or latest) as an HTML page: stage timeline, rows and
                      bytes per stage, quarantine reasons, typed share, estimated AWS cost

Options:
  --dir <path>        where the local lake, warehouse, DLQ and alert logs live (default .strata)
  --scale <factor>    TPC-H scale factor of the generated warehouse (default 0.01; a warehouse
                      is generated once, then each start moves it on a simulated day)
  --fresh             start from an empty lake and a newly generated warehouse instead of
                      the previous run's
  --entities <a,b>    extract only these configured entities
  --size <bytes>      backlog size, e.g. 256KB, 64MB or 1GB (default 16MB); a lake keeps the
                      backlog it was given first, so a different size needs --fresh
  --no-backfill       start: skip the backfill and run only the pipeline
  --feed <name>       backfill: the feed to backfill (lower snake case), from what is under
                      raw/<feed>/all_historical_files/ in the lake, and --from
  --from <source>     backfill: a JSON file or a folder of them (read recursively), or
                      s3://bucket/prefix (read in place with the default AWS credential chain),
                      copied to raw/<feed>/all_historical_files/ first; a rerun sends nothing twice
  --include <glob>    backfill --from: take only files whose path under --from matches (repeatable)
  --exclude <glob>    backfill --from: leave out files whose path matches (repeatable)
  --dry-run           backfill --from: print the plan (files, bytes, batches) and its estimated
                      cost on AWS, and send nothing
  --format <f>        query: table (default), csv or json
  --out <file>        report: where to write the page (default <dir>/reports/<run>.html)
  --week <date>       weekly-sync: a date in the ISO week to sync, e.g. 2023-01-28
  --feeds <a,b>       weekly-sync: the feeds to sync (default: the configured feeds)
  --port <port>       serve: the Step Functions API's port (default ${DEFAULT_SFN_PORT}; 0 picks one)
  --s3-port <port>    serve: local S3's port (default ${DEFAULT_S3_PORT}; 0 picks one)
  --stage <stage>     start, backfill --feed, weekly-sync: run the deployed stage's state
                      machines (strata-<stage>-…) with the default AWS credentials, not locally
  --verbose           print the handlers' structured logs too
  --help              show this help`;

type Values = Record<string, string | boolean | string[] | undefined>;

const write: CliOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

const DEFAULT_SIZE = '16MB';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * Starts the embedded runtime for one command, with its Step Functions API served on 127.0.0.1
 * (the command starts its executions through it, as it would on AWS), and stops both
 * afterwards, also on Ctrl-C, so local S3 never outlives the CLI.
 */
const withRuntime = async (
  values: Values,
  scale: number | undefined,
  work: (runtime: EmbeddedRuntime, local: LocalExecutions) => Promise<number>,
  options: { s3Port?: number; sfnPort?: number } = {}
): Promise<number> => {
  // The handlers' loggers read this when they are first imported, which is after this point.
  process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? 'INFO' : 'SILENT';
  const dir = String(values.dir ?? '.strata');
  console.log(`Strata — embedded runtime in ${dir}`);
  const runtime = await EmbeddedRuntime.start({
    dir,
    scale,
    fresh: Boolean(values.fresh),
    s3Port: options.s3Port,
  });
  let local: LocalExecutions | undefined;
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
    local = await serveLocalExecutions(runtime, options.sfnPort);
    return await work(runtime, local);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await local?.close();
    await runtime.stop();
  }
};

/** Generates (or reuses) the backlog and backfills every feed in it. */
const runBackfill = async (
  runtime: EmbeddedRuntime,
  executions: StepFunctionsExecutions,
  values: Values,
  size: number
) => {
  const began = Date.now();
  const backlog = await prepareBacklog(
    runtime,
    { targetBytes: size, sizeGiven: values.size !== undefined },
    write
  );
  const runs = await backfillFeeds(runtime, executions, backlog.feeds, write);
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
  return withRuntime(values, scale, async (runtime, { executions }) => {
    const backfill =
      values.backfill === false ? undefined : await runBackfill(runtime, executions, values, size);
    const runs = backfill?.runs ?? [];
    const day = await runtime.advanceWarehouse();
    if (day) {
      console.log(
        `\nwarehouse moved on a day (simulated day ${day.day}, ${day.businessDate}): ${day.newOrders} new orders (${day.lateOrders} late, dated the day before) with ${day.newLineItems} line items, ${day.movedCustomers} customer(s) moved, ${day.rebalancedCustomers} with a new balance, ${day.newCustomers} new, customer ${day.deletedCustomer} deleted`
      );
    }

    console.log('\n▶ pipeline');
    const pipelineBegan = Date.now();
    const entities = typeof values.entities === 'string' ? values.entities.split(',') : undefined;
    const outcome = await executions.run('pipeline', {
      name: executionName('local'),
      input: entities ? { entities } : {},
      onEvent: progressPrinter(write.out),
    });
    const pipelineWall = Date.now() - pipelineBegan;
    if (backfill) console.log(`\n${backfillSection(runs, backfill.wallMs)}`);

    if (outcome.status !== 'SUCCEEDED') {
      console.error(
        `\nPipeline ${outcome.status} with ${outcome.error}: ${failureReason(outcome.cause)}`
      );
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
      `Objects are in local S3 (${runtime.s3.endpoint}, bucket ${LOCAL_BUCKET}); on disk under ${lakeDirectory(runtime.dir)}`
    );
    console.log(`\nTotal wall time ${seconds(Date.now() - began)}`);
    return reportProblems(runtime, runs) === 0 ? 0 : 1;
  });
};

const backfill = async (values: Values, size: number) =>
  withRuntime(values, undefined, async (runtime, { executions }) => {
    const { runs, wallMs } = await runBackfill(runtime, executions, values, size);
    console.log(`\n${backfillSection(runs, wallMs)}\n`);
    const rows = runs.flatMap((feed) => (feed.status === 'SUCCEEDED' ? feed.summary.rows : []));
    console.log(summaryTable(rows, `s3://${LOCAL_BUCKET}/`));
    return reportProblems(runtime, runs) === 0 ? 0 : 1;
  });

/** The list a repeatable option was given, or none. */
const listOf = (value: Values[string]): string[] =>
  Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];

/**
 * Backfills one feed: from a user's files (`--from`, uploaded first), or from what the lake
 * already holds under its backlog prefix.
 */
const backfillFeed = async (values: Values): Promise<number> => {
  const feed = assertFeedName(typeof values.feed === 'string' ? values.feed : '');
  const from = typeof values.from === 'string' ? values.from : undefined;
  const filter = { include: listOf(values.include), exclude: listOf(values.exclude) };
  const source = from ? await openSource(from, filter) : undefined;
  if (source?.files.length === 0) {
    const filters = [...filter.include, ...filter.exclude].length
      ? ' that --include / --exclude let through'
      : '';
    console.error(`no files under ${from}${filters}: nothing to backfill into ${feed}`);
    return 1;
  }
  return withRuntime(values, undefined, async (runtime, { executions }) => {
    if (source) {
      const { files } = source;
      if (values['dry-run']) {
        console.log(
          dryRunText(await planSourceFiles(runtime.store, feed, files), source.from, feed)
        );
        return 0;
      }
      const sent = await uploadSourceFiles(runtime, feed, files, source.sender(runtime));
      console.log(
        `${feed}: ${count(files.length)} file(s) under ${source.from}: ${count(sent.uploaded)} ${source.verb} (${formatBytes(sent.bytes)}) to ${backlogPrefix(feed)}, ${count(sent.present)} already there, ${count(sent.done)} backfilled before`
      );
      if (sent.done === files.length) {
        console.log(`every file was backfilled before: nothing to do`);
        return 0;
      }
    }
    const began = Date.now();
    const runs = await backfillFeeds(runtime, executions, [feed], write);
    const [run] = runs;
    if (run?.status === 'SUCCEEDED') {
      const { objects, skipped, held, refused } = run.summary.plan;
      if (objects + skipped + held + refused === 0) {
        console.error(
          `⚠ backfill ${feed}: no objects under ${backlogPrefix(feed)}: nothing to backfill`
        );
      }
    }
    console.log(`\n${backfillSection(runs, Date.now() - began)}\n`);
    const rows = runs.flatMap((run) => (run.status === 'SUCCEEDED' ? run.summary.rows : []));
    console.log(summaryTable(rows, `s3://${LOCAL_BUCKET}/`));
    return reportProblems(runtime, runs) === 0 ? 0 : 1;
  });
};

const FORMATS: readonly QueryFormat[] = ['table', 'csv', 'json'];

/** Runs SQL over the local lake, once or at a prompt, printing each result. */
const query = async (values: Values, sql: string | undefined): Promise<number> => {
  const format = (values.format ?? 'table') as QueryFormat;
  if (!FORMATS.includes(format)) {
    console.error(`--format: "${values.format}" must be one of ${FORMATS.join(', ')}`);
    return 2;
  }
  const dir = String(values.dir ?? '.strata');
  return DuckDbEngine.use({ threads: 2 }, async (engine) => {
    await openLake(engine, dir);
    if (sql !== undefined) {
      console.log(formatRows(await engine.all(sql), format));
      return 0;
    }
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    prompt.setPrompt('strata> ');
    prompt.prompt();
    for await (const line of prompt) {
      if (line.trim()) {
        // A mistake at the prompt is told, and the prompt stays.
        await engine.all(line).then(
          (rows) => console.log(formatRows(rows, format)),
          (error: Error) => console.error(error.message)
        );
      }
      prompt.prompt();
    }
    return 0;
  });
};

/** Prints where each feed stands: raw objects by state, last backfill runs. */
const status = async (values: Values): Promise<number> =>
  DuckDbEngine.use({ threads: 2 }, async (engine) => {
    const dir = String(values.dir ?? '.strata');
    await openLake(engine, dir);
    console.log(await lakeStatus(engine, dir));
    return 0;
  });

/** Writes a run's HTML report and says where. */
const report = async (values: Values, run: string | undefined): Promise<number> => {
  if (!run) {
    console.error('usage: strata report <run id | latest> [--dir <dir>] [--out <file.html>]');
    return 2;
  }
  const out = typeof values.out === 'string' ? values.out : undefined;
  const written = await writeRunReport({ dir: String(values.dir ?? '.strata'), run, out });
  console.log(`report of ${written.feed} run ${written.runId}: ${pathToFileURL(written.path)}`);
  return 0;
};

/** Prints the online store's record for an identifier, as GetRecord returns it. */
const featuresGet = async (values: Values, id: string | undefined): Promise<number> => {
  if (!id) {
    console.error('usage: strata features get <record id>');
    return 2;
  }
  const dir = String(values.dir ?? '.strata');
  const online = join(dir, 'online-store.duckdb');
  if (!existsSync(online)) {
    console.error(`no online feature store in ${dir}: run npm start there first, or pass --dir`);
    return 1;
  }
  return DuckDbEngine.use({}, async (engine) => {
    await engine.run(`attach ${quoteLiteral(online)} as online (read_only)`);
    const [row] = await engine.all(
      `select record from online.online_records where record_identifier = ${quoteLiteral(id)} order by feature_group limit 1`
    );
    if (!row) {
      console.error(`no record ${id} in the online store`);
      return 1;
    }
    console.log(JSON.stringify(JSON.parse(String(row.record)), null, 2));
    return 0;
  });
};

/** The `--week` date, or nothing (said on stderr) when it is not one. */
const weekOf = (values: Values): Date | undefined => {
  const day = new Date(String(values.week ?? ''));
  if (!Number.isNaN(day.getTime())) return day;
  console.error(`--week: "${values.week ?? ''}" must be a date, e.g. 2023-01-28`);
  return undefined;
};

const weeklySync = async (values: Values): Promise<number> => {
  const day = weekOf(values);
  if (!day) return 2;
  const began = Date.now();
  return withRuntime(values, undefined, async (_runtime, { executions }) => {
    const outcome = await executions.run('weekly-sync', {
      name: executionName('weekly-sync'),
      input: await weeklySyncInput(
        typeof values.feeds === 'string' ? values.feeds : undefined,
        day
      ),
      onEvent: progressPrinter(write.out),
    });
    const wall = `wall time ${seconds(Date.now() - began)}`;
    if (outcome.status !== 'SUCCEEDED') {
      console.error(
        `weekly-sync ${outcome.status} with ${outcome.error}: ${failureReason(outcome.cause)}`
      );
      console.error(wall);
      return 1;
    }
    weeklySyncReport(outcome.output, day, `s3://${LOCAL_BUCKET}/`, write);
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
      feed: { type: 'string' },
      from: { type: 'string' },
      include: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      format: { type: 'string' },
      stage: { type: 'string' },
      port: { type: 'string' },
      's3-port': { type: 'string' },
      out: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (typeof values.stage === 'string') {
    const week = command === 'weekly-sync' ? weekOf(values) : undefined;
    if (command === 'weekly-sync' && !week) return 2;
    const { entities, feed, from, feeds } = values;
    return stageCommand(values.stage, command, { entities, feed, from, feeds, week }, write);
  }
  if (command === 'weekly-sync') return weeklySync(values);
  if (command === 'query') return query(values, positionals.slice(1).join(' ') || undefined);
  if (command === 'features' && positionals[1] === 'get')
    return featuresGet(values, positionals[2]);
  if (command === 'status') return status(values);
  if (command === 'serve') {
    const [port, s3Port] = [
      parsePort(values.port, DEFAULT_SFN_PORT),
      parsePort(values['s3-port'], DEFAULT_S3_PORT),
    ];
    if (port === undefined || s3Port === undefined) {
      console.error('--port, --s3-port: a port is a whole number from 0 to 65535');
      return 2;
    }
    return withRuntime(values, undefined, (runtime, local) => serve(runtime, local.server, write), {
      s3Port,
      sfnPort: port,
    });
  }
  if (command === 'report') return report(values, positionals[1]);
  if (command === 'backfill' && (values.feed !== undefined || values.from !== undefined)) {
    return backfillFeed(values);
  }
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
