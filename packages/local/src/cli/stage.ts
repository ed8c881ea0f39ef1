import { SFNClient } from '@aws-sdk/client-sfn';
import type { ReconcileResult } from '@strata/core/reconcile';
import { executionName, StepFunctionsExecutions } from '../sfn-api/StepFunctionsExecutions.js';
import type { CliOutput } from './backfillFeeds.js';
import { count, failureReason } from './format.js';
import { progressPrinter } from './progress.js';
import { assertFeedName, backlogPrefix } from './sourceFiles.js';
import { weeklySyncInput, weeklySyncReport } from './weeklySync.js';

/** How often a deployed execution's history is read: well inside the API's request quotas. */
const AWS_POLL_MS = 2000;

/** One execution a command starts: the state machine's file name, the execution's name and input. */
export interface StageRun {
  machine: 'pipeline' | 'backfill' | 'weekly-sync';
  name: string;
  input: unknown;
}

/**
 * Runs one execution on a deployed stage (`strata-<stage>-<machine>`, found by name) with the
 * client the local commands use, credentials from the default chain, printing its progress
 * from its history, then what `report` reads from its output, or why it failed, and its ARN.
 *
 * @param stage - the SST stage the state machines were deployed with
 * @param run - what to start
 * @param write - where lines go
 * @param report - says what a succeeded execution's output tells
 * @returns the exit code: 0 when the execution succeeded
 */
export const runOnStage = async (
  stage: string,
  run: StageRun,
  write: CliOutput,
  report: (output: unknown, write: CliOutput) => void
): Promise<number> => {
  const client = new SFNClient({});
  try {
    const executions = new StepFunctionsExecutions({ client, stage, pollMs: AWS_POLL_MS });
    write.out(
      `▶ ${run.machine} on stage ${stage}: ${await executions.stateMachineArn(run.machine)}`
    );
    const outcome = await executions.run(run.machine, {
      name: run.name,
      input: run.input,
      onEvent: progressPrinter(write.out),
    });
    if (outcome.status !== 'SUCCEEDED') {
      write.err(
        `${run.machine} ${outcome.status} with ${outcome.error}: ${failureReason(outcome.cause)}`
      );
      write.err(`execution ${outcome.executionArn}`);
      return 1;
    }
    report(outcome.output, write);
    write.out(`${run.machine} SUCCEEDED — execution ${outcome.executionArn}`);
    return 0;
  } finally {
    client.destroy();
  }
};

/** The options a command takes on a stage. */
export interface StageOptions {
  entities?: string;
  feed?: string;
  from?: string;
  /** weekly-sync's `--week`, already a date. */
  week?: Date;
  feeds?: string;
}

/**
 * Runs `start` (the pipeline), `backfill --feed <feed>` (what is under the feed's backlog prefix
 * in the stage's lake) or `weekly-sync` on a deployed stage. What needs the local lake — the
 * generated backlog, `--from` uploads, the summaries read back from the lake — stays local.
 *
 * @param stage - the SST stage
 * @param command - the CLI command
 * @param options - its options
 * @param write - where lines go
 * @returns the exit code (2 for a command or option a stage does not take)
 */
export const stageCommand = async (
  stage: string,
  command: string,
  options: StageOptions,
  write: CliOutput
): Promise<number> => {
  if (command === 'start') {
    const input = options.entities ? { entities: options.entities.split(',') } : {};
    return runOnStage(
      stage,
      { machine: 'pipeline', name: executionName('strata'), input },
      write,
      (output, to) => {
        const run = (output as { run?: { runId?: string } }).run;
        to.out(`pipeline run ${run?.runId}`);
      }
    );
  }
  if (command === 'backfill') {
    if (options.feed === undefined || options.from !== undefined) {
      write.err(
        `--stage: backfill takes --feed <name>, for the objects already under raw/<feed>/all_historical_files/ in the stage's lake (--from and the generated backlog are local only)`
      );
      return 2;
    }
    const feed = assertFeedName(options.feed);
    const input = { feed, prefix: backlogPrefix(feed) };
    return runOnStage(
      stage,
      { machine: 'backfill', name: executionName(`backfill-${feed}`), input },
      write,
      (output, to) => {
        const { plan, reconcile } = output as {
          plan: { objects: number };
          reconcile: { report: ReconcileResult };
        };
        const { report } = reconcile;
        if (plan.objects === 0) {
          to.err(
            `⚠ backfill ${feed}: no objects under ${backlogPrefix(feed)}: nothing to backfill`
          );
        }
        to.out(
          `backfill ${feed}: ${count(report.recordsRead)} records read = ${count(report.rowsWritten)} rows written + ${count(report.recordsQuarantined)} quarantined; ${report.batches.failed + report.batches.pending} failed batch(es); report ${report.reportKey} in the lake`
        );
      }
    );
  }
  if (command === 'weekly-sync' && options.week) {
    const day = options.week;
    const input = await weeklySyncInput(options.feeds, day);
    return runOnStage(
      stage,
      { machine: 'weekly-sync', name: executionName('weekly-sync'), input },
      write,
      (output, to) => weeklySyncReport(output, day, "the lake's ", to)
    );
  }
  write.err(`--stage: only start, backfill --feed and weekly-sync run on a stage, not ${command}`);
  return 2;
};
