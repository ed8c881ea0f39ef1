import { z } from 'zod';
import { type FeatureIngestResult, finishFeatureIngest } from './finishFeatureIngest.js';
import { type IngestFeatureRangeDeps, ingestFeatureRange } from './ingestFeatureRange.js';
import { type FeatureIngestSettings, planFeatureIngest } from './planFeatureIngest.js';

const run = { runId: z.string().min(1) };

/**
 * The stage's three steps, as the state machine calls them: `plan` once, `range` once per range
 * (a Map over the plan's ranges), `finish` once all are sent.
 */
export const featureIngestInputSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('plan'), ...run, runStartedAt: z.iso.datetime({ offset: true }) }),
  z.object({ step: z.literal('range'), ...run, range: z.number().int().min(0) }),
  z.object({ step: z.literal('finish'), ...run }),
]);

export type FeatureIngestInput = z.output<typeof featureIngestInputSchema>;

/** What every step of a run needs. */
export type FeatureIngestDeps = IngestFeatureRangeDeps & { settings: FeatureIngestSettings };

/**
 * One step of feature-ingest: plans the run, sends one range, or finishes the run.
 *
 * @param input - the step and its run
 * @param deps - lake, engine, sink, dead-letter queue, the group, its contract and the settings
 */
export const runFeatureIngestStep = (input: FeatureIngestInput, deps: FeatureIngestDeps) => {
  switch (input.step) {
    case 'plan':
      return planFeatureIngest(input, deps);
    case 'range':
      return ingestFeatureRange(input, deps);
    case 'finish':
      return finishFeatureIngest(input, { ...deps, maxFailedShare: deps.settings.maxFailedShare });
  }
};

/**
 * A whole run of feature-ingest in one process: plan, every range in turn, finish — what the
 * state machine does across invocations, for callers without one (benchmarks, tests).
 *
 * @param input - the run and its start, which is every record's event time
 * @param deps - as for {@link runFeatureIngestStep}
 */
export const runFeatureIngest = async (
  input: { runId: string; runStartedAt: string },
  deps: FeatureIngestDeps
): Promise<FeatureIngestResult> => {
  const { ranges } = await planFeatureIngest(input, deps);
  for (const range of ranges) await ingestFeatureRange({ runId: input.runId, range }, deps);
  return finishFeatureIngest(input, { ...deps, maxFailedShare: deps.settings.maxFailedShare });
};
