import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { BronzeToSilverResult } from '@strata/core/bronze-to-silver';
import type { ExtractResult } from '@strata/core/extract';
import type { FeatureIngestPlanResult, FeatureIngestResult } from '@strata/core/feature-ingest';
import type { PlanBacklogResult } from '@strata/core/plan-backlog';
import type { ReconcileResult } from '@strata/core/reconcile';
import type { SilverToGoldResult } from '@strata/core/silver-to-gold';
import { count, formatBytes } from './format.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/**
 * The state data after each stage's ResultPath in statemachines/pipeline.asl.json and
 * statemachines/backfill.asl.json.
 */
type StateOutput = Partial<ExtractResult> & {
  silver?: BronzeToSilverResult;
  gold?: SilverToGoldResult;
  featurePlan?: FeatureIngestPlanResult;
  features?: FeatureIngestResult;
  plan?: PlanBacklogResult;
  reconcile?: { report: ReconcileResult };
};

/** A stage's headline numbers, read from where the ASL puts each stage's result. */
const describeOutput = (name: string, output: unknown, elapsedMs: number): string => {
  const value = (output ?? {}) as StateOutput;
  switch (name) {
    case 'ExtractEntity':
      return `${value.entity}: ${count(value.rows)} rows in ${value.parts} part(s)`;
    case 'BronzeToSilver': {
      const datasets = value.silver?.datasets ?? [];
      const sum = (field: 'rowsIn' | 'rowsQuarantined') =>
        datasets.reduce((total, dataset) => total + dataset[field], 0);
      return `${datasets.length} datasets: ${count(sum('rowsIn'))} rows in, ${count(sum('rowsQuarantined'))} quarantined`;
    }
    case 'SilverToGold':
      return (value.gold?.models ?? [])
        .map((model) => `${model.model}: ${count(model.rows)} rows`)
        .join(', ');
    case 'FeatureIngest': {
      const plan = value.featurePlan;
      const held = plan?.deletionsHeld
        ? ` (${count(plan.deletionsHeld)} deletion(s) held: more than feature_ingest.max_deleted_share of the group)`
        : '';
      return `${count(plan?.changed)} changed, ${count(plan?.deleted)} deleted${held}, ${count(plan?.unchanged)} unchanged: ${count(plan?.ranges.length)} range(s) to send`;
    }
    case 'FinishFeatureIngest': {
      const features = value.features;
      return `${count(features?.records)} records to ${features?.featureGroup} (${count(features?.retried)} retried, ${count(features?.failed)} failed), ${count(features?.deleted)} deleted, ${count(features?.unchanged)} unchanged`;
    }
    case 'PlanBacklog': {
      const plan = value.plan;
      if (!plan) return '';
      const done = plan.skipped ? `; ${count(plan.skipped)} already done per the ledger` : '';
      return `${count(plan.objects)} objects, ${formatBytes(plan.bytes)} in ${count(plan.batches)} batch(es)${done}`;
    }
    case 'FlattenBacklog': {
      const plan = value.plan;
      if (!plan) return '';
      const rate = elapsedMs > 0 ? (plan.bytes / 1024 ** 2 / (elapsedMs / 1000)).toFixed(1) : '–';
      return `${count(plan.batches)} batch(es), ${formatBytes(plan.bytes)} at ${rate} MB/s`;
    }
    case 'Reconcile':
    case 'ReconcileRetried': {
      const report = value.reconcile?.report;
      if (!report) return '';
      const unfinished = report.batches.failed + report.batches.pending;
      const failed = unfinished ? `; ${unfinished} batch(es) FAILED` : '';
      return `${count(report.recordsRead)} records read = ${count(report.rowsWritten)} rows written + ${count(report.recordsQuarantined)} quarantined${failed}`;
    }
    default:
      return '';
  }
};

/**
 * Turns an execution's history, as the Step Functions API gives it (locally or on AWS), into
 * progress lines as it is read: each Task and Map as it finishes with its elapsed time, retries,
 * failures with their error name and message, and the failure branch a Catch takes.
 *
 * A Task event names no state: it belongs to the state last entered in its scope, the execution
 * or one Map iteration, which `previousEventId` leads back to.
 *
 * @param write - where lines go
 */
export const progressPrinter = (write: (line: string) => void) => {
  /** Each event's Map iteration (undefined outside one), by event id. */
  const iterations = new Map<number, number | undefined>();
  const closing = new Set<number>();
  /** The state last entered in each scope, when, and how many times its Task was scheduled. */
  const current = new Map<string, { name: string; at: number; attempts: number }>();
  /** The state in each scope whose failure a Catch may take next. */
  const failed = new Map<string, string>();
  return (event: HistoryEvent): void => {
    const id = event.id ?? 0;
    const previous = event.previousEventId ?? 0;
    const index =
      event.type === 'MapIterationStarted'
        ? event.mapIterationStartedEventDetails?.index
        : closing.has(previous)
          ? undefined
          : iterations.get(previous);
    iterations.set(id, index);
    if (event.type?.startsWith('MapIteration') && event.type !== 'MapIterationStarted') {
      closing.add(id);
    }
    const scope = String(index ?? '');
    const at = event.timestamp?.getTime() ?? 0;
    const state = current.get(scope);
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      const caught = failed.get(scope);
      if (caught) write(`→ ${caught}: caught, taking the failure branch`);
      failed.delete(scope);
      const name = event.stateEnteredEventDetails?.name ?? '';
      current.set(scope, { name, at, attempts: 0 });
      if (type === 'MapStateEntered') write(`▶ ${name}`);
      return;
    }
    if (!state) return;
    switch (type) {
      case 'TaskScheduled':
        state.attempts += 1;
        failed.delete(scope);
        if (state.attempts > 1) write(`  ↻ ${state.name}: retry ${state.attempts - 1}`);
        return;
      case 'TaskFailed':
      case 'MapRunFailed': {
        const details = event.taskFailedEventDetails ?? event.mapRunFailedEventDetails;
        write(`✗ ${state.name}: ${details?.error}: ${details?.cause ?? ''}`);
        failed.set(scope, state.name);
        return;
      }
      case 'TaskStateExited':
      case 'MapStateExited': {
        const caught = failed.get(scope);
        failed.delete(scope);
        if (caught) {
          // AWS exits a Task whose failure a Catch took; the executor goes to the branch.
          write(`→ ${caught}: caught, taking the failure branch`);
          return;
        }
        const elapsed = at - state.at;
        const output = JSON.parse(event.stateExitedEventDetails?.output ?? 'null') as unknown;
        const detail = describeOutput(state.name, output, elapsed);
        const indent = index === undefined ? '' : '  ';
        write(`${indent}✓ ${state.name}${detail ? `  ${detail}` : ''}  (${seconds(elapsed)})`);
        return;
      }
      default:
        return;
    }
  };
};
