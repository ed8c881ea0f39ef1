import { costAssumptions, estimatePlanCost } from '@strata/core/cost';
import { BATCH_BUDGET_SECONDS } from '@strata/core/plan-backlog';
import type { EmbeddedRuntime } from '../runtime/EmbeddedRuntime.js';
import { count, formatBytes } from './format.js';
import { listS3Source, parseS3Url, s3Sender, s3SourceStore, sameS3 } from './s3Source.js';
import {
  backlogPrefix,
  listSourceFiles,
  type SendFile,
  type SourceFile,
  type SourceFilter,
  type SourcePlan,
} from './sourceFiles.js';

/** A `--from` source, listed: its files and how they reach a lake. */
export interface BackfillSource {
  /** The `--from` value. */
  from: string;
  files: SourceFile[];
  /** How a file reaches the runtime's lake: uploaded from disk, or copied from its bucket. */
  sender: (runtime: EmbeddedRuntime) => SendFile | undefined;
  /** What sending a file is called, for the summary line. */
  verb: 'uploaded' | 'copied';
}

/**
 * Lists a `--from` source: a file or folder on disk, or the objects under `s3://bucket/prefix`
 * read in place with the default AWS credential chain, filtered by the same globs.
 *
 * @param from - the `--from` value
 * @param filter - the `--include` / `--exclude` globs
 */
export const openSource = async (from: string, filter: SourceFilter): Promise<BackfillSource> => {
  const location = parseS3Url(from);
  if (!location) {
    return {
      from,
      files: await listSourceFiles(from, filter),
      sender: () => undefined,
      verb: 'uploaded',
    };
  }
  const source = s3SourceStore(location);
  return {
    from,
    files: await listS3Source(source, location, filter),
    sender: (runtime) => s3Sender(source, location, runtime.store, sameS3(runtime.s3.endpoint)),
    verb: 'copied',
  };
};

/**
 * What `--dry-run` prints: the plan (objects, bytes, batches and how they were sized) and what
 * running it would cost on AWS, with the assumptions the estimate rests on.
 *
 * @param plan - {@link planSourceFiles}' plan
 * @param from - the `--from` value
 * @param feed - the feed
 */
export const dryRunText = (plan: SourcePlan, from: string, feed: string): string => {
  const rate = `${formatBytes(plan.bytesPerSecond)}/s (${plan.measured ? "the feed's measured rate" : 'a cautious rate for a feed that has not run yet'})`;
  const shape = { totalBytes: plan.bytes, objects: plan.objects, batches: plan.batches };
  const estimate = estimatePlanCost(shape);
  // A feed's own data can run far slower than the benchmark's (wide JSON: 0.35 MB/s where
  // narrow runs at 25 MiB/s per core), so the planner's rate bounds the cost from above.
  const bound = estimatePlanCost(shape, {
    perLambdaMBps: plan.bytesPerSecond / 1024 ** 2,
    source: `the planner's rate, ${rate}`,
  });
  const cost = (dollars: number) => `$${dollars.toFixed(4)}`;
  return [
    `dry run: ${count(plan.objects)} file(s), ${formatBytes(plan.bytes)} from ${from} → ${backlogPrefix(feed)}`,
    `${count(plan.batches)} batch(es) of up to ${formatBytes(plan.batchBytes)}, sized to end within ${BATCH_BUDGET_SECONDS} s each at ${rate}; nothing sent`,
    `estimated cost on AWS: ${cost(estimate.total.arm64)} (about ${Math.ceil(estimate.secondsPerBatch)} s per batch at the benchmark's rate), at most ${cost(bound.total.arm64)} (${Math.ceil(bound.secondsPerBatch)} s per batch at the planner's)`,
    ...costAssumptions(estimate).map((assumption) => `  assumes ${assumption}`),
  ].join('\n');
};
