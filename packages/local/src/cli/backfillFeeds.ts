import { BadInputError } from '@strata/core/errors';
import { planKey, refusedKey } from '@strata/core/plan-backlog';
import { z } from 'zod';
import { mapRunFolder } from '../asl/distributedMap/resultWriter.js';
import { generateBacklog } from '../backlog/index.js';
import { type EmbeddedRuntime, LOCAL_BUCKET } from '../runtime/EmbeddedRuntime.js';
import {
  type BackfillOutput,
  type BackfillSummary,
  summarizeBackfill,
} from '../runtime/summarizeBackfill.js';
import { executionName, type StepFunctionsExecutions } from '../sfn-api/StepFunctionsExecutions.js';
import { count, failureReason, formatBytes } from './format.js';
import { progressPrinter } from './progress.js';
import { textTable } from './summaryTable.js';
import { typingLine } from './typingLine.js';

/** What the CLI generated into a lake, so a rerun on the same directory can reuse it. */
export const BACKLOG_KEY = '_backfill/generated-backlog.json';

const backlogSchema = z.object({
  /** The `--size` asked for; the generator overshoots it by up to one file per feed. */
  targetBytes: z.number().int().positive(),
  generatedAt: z.string().min(1),
  feeds: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/)).min(1),
  objects: z.number().int().min(0),
  bytes: z.number().int().min(0),
  records: z.number().int().min(0),
  malformed: z.number().int().min(0),
});

export type GeneratedBacklogRecord = z.infer<typeof backlogSchema>;

/** The historical files of a feed; the weekly folders are left to the weekly sync. */
const historicalPrefix = (feed: string) => `raw/${feed}/all_historical_files/`;

/** `raw/<feed>/...` → the feed. */
const feedOf = (key: string) => key.split('/')[1] ?? '';

/** JSON text → its value, or undefined when it is not JSON (the schema then says what is wrong). */
const jsonOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** Where the CLI's lines go: progress and results to `out`, failures to `err`. */
export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The lake's generated backlog: the one an earlier run left (recorded at BACKLOG_KEY), or a new
 * one of `targetBytes`. Generating again on a lake that has one would write the same keys again
 * and the ledger would skip every object it already finished, leaving copies under raw/ that
 * are never processed; so only `--fresh` (an empty lake) regenerates, and a `--size` that
 * differs from the existing backlog's is refused instead of silently ignored.
 *
 * @param runtime - the embedded runtime
 * @param request - the size, and whether the user asked for it or it is the default
 * @param write - where to say what happened
 */
export const prepareBacklog = async (
  runtime: EmbeddedRuntime,
  request: { targetBytes: number; sizeGiven: boolean },
  write: CliOutput
): Promise<GeneratedBacklogRecord> => {
  const stored = await runtime.store.get(BACKLOG_KEY);
  if (stored) {
    const parsed = backlogSchema.safeParse(jsonOrUndefined(new TextDecoder().decode(stored)));
    if (!parsed.success) {
      throw new BadInputError(
        `${BACKLOG_KEY} in ${runtime.dir} is not a backlog record (${parsed.error.issues[0]?.message}); rerun with --fresh`
      );
    }
    const backlog = parsed.data;
    if (request.sizeGiven && request.targetBytes !== backlog.targetBytes) {
      throw new BadInputError(
        `--size ${formatBytes(request.targetBytes)}: the lake in ${runtime.dir} already holds the ${formatBytes(backlog.targetBytes)} backlog generated at ${backlog.generatedAt}; add --fresh to start from an empty lake with a new backlog, or leave out --size to finish the existing one`
      );
    }
    write.out(
      `backlog: reusing the ${formatBytes(backlog.targetBytes)} backlog generated at ${backlog.generatedAt} (${count(backlog.objects)} raw objects); the ledger skips what earlier runs finished, --fresh starts over`
    );
    return backlog;
  }
  write.out(`backlog: generating ${formatBytes(request.targetBytes)} of nested JSON under raw/`);
  const generated = await generateBacklog({
    store: runtime.store,
    targetBytes: request.targetBytes,
  });
  const backlog: GeneratedBacklogRecord = {
    targetBytes: request.targetBytes,
    generatedAt: new Date().toISOString(),
    feeds: [...new Set(generated.objects.map((object) => feedOf(object.key)))],
    objects: generated.objects.length,
    bytes: generated.bytes,
    records: generated.records,
    malformed: generated.malformed,
  };
  await runtime.store.put(BACKLOG_KEY, JSON.stringify(backlog, null, 2), 'application/json');
  const weekly = generated.objects.filter(
    (object) => !object.key.startsWith(historicalPrefix(feedOf(object.key)))
  ).length;
  write.out(
    `backlog: generated ${count(backlog.objects)} raw objects, ${formatBytes(backlog.bytes)}, ${count(backlog.records)} records (${count(backlog.malformed)} malformed) under raw/; the ${count(weekly)} in weekly folders are left for the weekly sync`
  );
  return backlog;
};

/** Batches of a failed run whose objects {@link firstBatchFailure} looks up, at most. */
const BATCHES_TO_SEARCH = 20;

/**
 * What the first failed batch of a run failed with: from the ledger's FAILED entries of the
 * run's planned objects, or else from the failed children the Map Run wrote beside its manifest
 * (the ledger may be what failed). A map that exceeded its tolerated failures says only that,
 * and the fault (a full disk, an unreachable store) is in its batches. Nothing when neither can
 * say (local S3 down).
 *
 * @example
 * await firstBatchFailure(runtime, 'payments', runId, outcome.redrive?.mapRun?.Key);
 * // 'batch <runId>-payments-000000 failed with Strata.Terminal: disk full: …'
 * @param runtime - the embedded runtime whose lake and ledger the run used
 * @param feed - the run's feed
 * @param runId - the run (its execution name)
 * @param mapRunManifest - the key of the failed Map Run's ResultWriter manifest, if it wrote one
 */
export const firstBatchFailure = async (
  runtime: EmbeddedRuntime,
  feed: string,
  runId: string,
  mapRunManifest?: string
): Promise<string | undefined> => {
  const read = async <T>(key: string) =>
    JSON.parse(new TextDecoder().decode(await runtime.store.get(key))) as T;
  try {
    const plan = await runtime.store.get(planKey(feed, runId));
    const batches = new TextDecoder().decode(plan).split('\n').filter(Boolean);
    for (const line of batches.slice(0, BATCHES_TO_SEARCH)) {
      const { objects } = JSON.parse(line) as { objects: { key: string }[] };
      const entries = await runtime.ledger.getMany(objects.map((object) => object.key));
      const failed = [...entries.values()].find(
        (entry) => entry.status === 'FAILED' && entry.batchId?.startsWith(runId)
      );
      if (failed) return `batch ${failed.batchId} failed with ${failed.error}`;
    }
  } catch {
    // The ledger cannot say: the Map Run's results may.
  }
  try {
    if (!mapRunManifest) return undefined;
    const manifest = await read<{ ResultFiles?: { FAILED?: { Key: string }[] } }>(mapRunManifest);
    for (const file of manifest.ResultFiles?.FAILED ?? []) {
      for (const child of await read<{ Input?: string; Error?: string; Cause?: string }[]>(
        file.Key
      )) {
        const { batchId } = JSON.parse(child.Input ?? '{}') as { batchId?: string };
        // A Lambda's error reaches Step Functions as {errorType, errorMessage} in the Cause.
        let message = child.Cause ?? '';
        try {
          message = (JSON.parse(message) as { errorMessage?: string }).errorMessage ?? message;
        } catch {
          // A Cause that is plain text is the message.
        }
        return `batch ${batchId ?? '?'} failed with ${child.Error}: ${message.split('\n')[0]}`;
      }
    }
  } catch {
    // The execution's own error is all there is to tell.
  }
  return undefined;
};

/**
 * Where a Map Run of the backfill wrote its results, `<Prefix>/<map run id>/manifest.json`
 * (input-output-resultwriter.html): the Prefix is the one the backfill's Distributed Maps share
 * in the ASL; none when they write under different ones.
 *
 * @param runtime - the embedded runtime, for the backfill's definition
 * @param mapRunArn - the Map Run's ARN, which ends with its id
 */
const mapRunManifest = async (
  runtime: EmbeddedRuntime,
  mapRunArn: string | undefined
): Promise<string | undefined> => {
  if (!mapRunArn) return undefined;
  const { States } = (await runtime.definition('backfill')) as {
    States: Record<string, { ResultWriter?: { Parameters?: { Prefix?: string } } }>;
  };
  const prefixes = new Set(
    Object.values(States).flatMap((state) =>
      state.ResultWriter ? [state.ResultWriter.Parameters?.Prefix ?? ''] : []
    )
  );
  const [prefix] = prefixes;
  if (prefixes.size !== 1 || prefix === undefined) return undefined;
  return `${mapRunFolder(prefix, mapRunArn.split(':').pop() ?? '')}manifest.json`;
};

/** One feed's backfill execution: its summary, or why it failed. */
export type FeedBackfill =
  | { feed: string; runId: string; status: 'SUCCEEDED'; summary: BackfillSummary }
  | { feed: string; runId: string; status: 'FAILED'; error: string };

/**
 * Runs the `backfill` state machine once per feed, one after another, through the Step Functions
 * API, printing each execution's progress from its history, and summarises each successful run
 * from the lake. A failed feed does not stop the others.
 *
 * @param runtime - the embedded runtime, whose lake and ledger the runs use
 * @param executions - the client that starts and follows the executions
 * @param feeds - the feeds to backfill
 * @param write - where progress and failures go
 */
export const backfillFeeds = async (
  runtime: EmbeddedRuntime,
  executions: StepFunctionsExecutions,
  feeds: readonly string[],
  write: CliOutput
): Promise<FeedBackfill[]> => {
  const runs: FeedBackfill[] = [];
  for (const feed of feeds) {
    const runId = executionName(`backfill-${feed}`);
    write.out(`\n▶ backfill ${feed}: ${historicalPrefix(feed)}`);
    const outcome = await executions.run('backfill', {
      name: runId,
      input: { feed, prefix: historicalPrefix(feed) },
      onEvent: progressPrinter(write.out),
    });
    if (outcome.status !== 'SUCCEEDED') {
      // Causes can span lines (a parser's message quoting the input); one line reads better.
      const failed = `${outcome.error}: ${failureReason(outcome.cause).replace(/\s*\n\s*/g, ' ')}`;
      const manifest = await mapRunManifest(runtime, outcome.failedMapRuns.at(-1));
      const batch = await firstBatchFailure(runtime, feed, runId, manifest);
      const error = batch ? `${failed}; ${batch}` : failed;
      write.err(`✗ backfill ${feed} FAILED with ${error}`);
      runs.push({ feed, runId, status: 'FAILED', error });
      continue;
    }
    const output = outcome.output as BackfillOutput;
    const summary = await summarizeBackfill(runtime.store, { feed, runId, output });
    runs.push({ feed, runId, status: 'SUCCEEDED', summary });
  }
  return runs;
};

/** What went wrong in one feed's backfill, one sentence per problem, each naming the feed. */
const feedProblems = (run: FeedBackfill): string[] => {
  if (run.status === 'FAILED') return [`${run.feed}: the execution failed with ${run.error}`];
  const { report, reconciled, silverRows, plan } = run.summary;
  const problems: string[] = [];
  const failedBatches = report.batches.failed + report.batches.pending;
  if (failedBatches > 0) {
    problems.push(
      `${run.feed}: ${failedBatches} batch(es) failed, listed for a redrive in s3://${LOCAL_BUCKET}/${report.reportKey}`
    );
  }
  const listed = `listed in s3://${LOCAL_BUCKET}/${report.reportKey}`;
  if (report.objects.failed > 0) {
    problems.push(
      `${run.feed}: ${count(report.objects.failed)} object(s) FAILED, each with its error, ${listed}; the next run retries them, and quarantines one that has failed too often`
    );
  }
  if (report.objects.stranded > 0) {
    problems.push(
      `${run.feed}: ${count(report.objects.stranded)} object(s) still PROCESSING by a batch that did not finish, ${listed}; a rerun takes them over when the lease lapses`
    );
  }
  if (plan.held > 0) {
    problems.push(
      `${run.feed}: ${count(plan.held)} object(s) left out, held by a live batch of another run; a rerun takes them over if that run dies and its lease lapses`
    );
  }
  if (plan.refused > 0) {
    problems.push(
      `${run.feed}: ${count(plan.refused)} object(s) left out, their keys holding a . or .. segment no batch may take, listed in s3://${LOCAL_BUCKET}/${refusedKey(run.feed, run.runId)}; rename them under raw/${run.feed}/`
    );
  }
  if (!reconciled) {
    problems.push(
      `${run.feed}: the lake does not bear out the report (${count(silverRows)} silver rows read back for ${count(report.rowsWritten)} written, quarantine sidecars against ${count(report.recordsQuarantined)} quarantined)`
    );
  }
  return problems;
};

/**
 * What went wrong in the backfill: failed executions, failed batches (left for a Map Run
 * redrive), objects no batch could take, and counts the lake does not bear out.
 *
 * @param runs - the feeds' executions
 */
export const backfillProblems = (runs: readonly FeedBackfill[]): string[] =>
  runs.flatMap(feedProblems);

/**
 * The backfill's reconciliation, one line per feed: records read = rows written + quarantined as
 * Reconcile reported them, and the silver rows and quarantined records found in the lake.
 *
 * @param runs - the feeds' executions
 */
export const backfillTable = (runs: readonly FeedBackfill[]): string =>
  textTable(
    [
      'feed',
      'batches',
      'records read',
      'rows written',
      'quarantined',
      'silver rows read back',
      'check',
    ],
    runs.map((run) => {
      if (run.status === 'FAILED') return [run.feed, '–', '–', '–', '–', '–', 'FAILED'];
      const { report, silverRows } = run.summary;
      return [
        run.feed,
        count(report.batches.succeeded),
        count(report.recordsRead),
        count(report.rowsWritten),
        count(report.recordsQuarantined),
        count(silverRows),
        feedProblems(run).length === 0 ? '✓' : '✗',
      ];
    }),
    [1, 2, 3, 4, 5]
  );

/** What a run took over from earlier runs that failed or died, if anything. */
const recoveryLine = ({ feed, report }: BackfillSummary): string[] =>
  report.objects.retried > 0 || report.adoptedBatches > 0
    ? [
        `${feed}: retried ${count(report.objects.retried)} object(s) earlier batches failed or left, finished ${count(report.adoptedBatches)} batch(es) a stopped run had committed`,
      ]
    : [];

/**
 * The backfill's part of the final summary: the outcome and wall time, the reconciliation table,
 * and where the runs' outputs are.
 *
 * @param runs - the feeds' executions
 * @param wallMs - how long generating and backfilling took
 */
export const backfillSection = (runs: readonly FeedBackfill[], wallMs: number): string => {
  const failed = backfillProblems(runs).length > 0;
  return [
    `Backfill ${failed ? 'FAILED' : 'SUCCEEDED'} — ${runs.length} feed(s), wall time ${(wallMs / 1000).toFixed(1)}s`,
    '',
    backfillTable(runs),
    ...runs.flatMap((run) => (run.status === 'SUCCEEDED' ? recoveryLine(run.summary) : [])),
    ...runs.flatMap((run) =>
      run.status === 'SUCCEEDED' && run.summary.typing ? [typingLine(run.summary.typing)] : []
    ),
    '',
    `Outputs in s3://${LOCAL_BUCKET}/: silver/<feed>/ (Parquet, in the folders of the feed's partition),`,
    '  quarantine/<feed>/batch=<id>/ (rejected lines and unreadable files, with the reasons),',
    '  raw-processed/<feed>/ (the raw objects once processed), _schemas/<feed>/schema.json,',
    '  and the run reports:',
    ...runs.flatMap((run) =>
      run.status === 'SUCCEEDED' ? [`  s3://${LOCAL_BUCKET}/${run.summary.report.reportKey}`] : []
    ),
  ].join('\n');
};
