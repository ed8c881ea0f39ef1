import type { BronzeToSilverResult } from '@strata/core/bronze-to-silver';
import type { ExtractResult } from '@strata/core/extract';
import type { FeatureIngestPlanResult, FeatureIngestResult } from '@strata/core/feature-ingest';
import type { PlanBacklogResult } from '@strata/core/plan-backlog';
import type { ReconcileResult } from '@strata/core/reconcile';
import type { SilverToGoldResult } from '@strata/core/silver-to-gold';
import type { EventLog } from '../asl/runLocalExecution.js';
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
      return `${count(plan?.changed)} changed, ${count(plan?.unchanged)} unchanged: ${count(plan?.ranges.length)} range(s) to send`;
    }
    case 'FinishFeatureIngest': {
      const features = value.features;
      return `${count(features?.records)} records to ${features?.featureGroup} (${count(features?.retried)} retried, ${count(features?.failed)} failed), ${count(features?.unchanged)} unchanged`;
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
 * Turns the execution's event log into progress lines: each Task as it finishes with its
 * elapsed time, retries, and failures with their error name and message.
 *
 * @param write - where lines go
 */
export const progressPrinter = (write: (line: string) => void) => {
  const started = new Map<string, number>();
  const id = (event: { state: { name: string }; index?: number }) =>
    `${event.state.name}#${event.index ?? ''}`;
  return (event: EventLog): void => {
    switch (event.type) {
      case 'StateEntered':
        started.set(id(event), event.timestamp);
        if (event.state.type === 'Map') write(`▶ ${event.state.name}`);
        return;
      case 'StateExited': {
        if (event.state.type !== 'Task' && event.state.type !== 'Map') return;
        const elapsed = event.timestamp - (started.get(id(event)) ?? event.timestamp);
        const detail = describeOutput(event.state.name, event.state.output, elapsed);
        const indent = event.index === undefined ? '' : '  ';
        write(
          `${indent}✓ ${event.state.name}${detail ? `  ${detail}` : ''}  (${seconds(elapsed)})`
        );
        return;
      }
      case 'StateRetried':
        write(`  ↻ ${event.state.name}: retry ${event.retry.attempt}`);
        return;
      case 'StateFailed':
        write(`✗ ${event.state.name}: ${event.Error}: ${String(event.Cause ?? '')}`);
        return;
      case 'StateCaught':
        write(`→ ${event.state.name}: caught, taking the failure branch`);
        return;
      default:
        return;
    }
  };
};
