import { z } from 'zod';
import { parseOrThrow, type StrataConfig } from '../config/index.js';
import { BadInputError } from '../errors/index.js';
import { assertRunId } from '../lake/index.js';

export const planRunInputSchema = z.object({
  request: z.unknown(),
  executionName: z.string().min(1),
  startedAt: z.string().min(1),
});

/** What a user may put in the execution input. */
export const runRequestSchema = z
  .object({
    /** Extract only these entities; all configured ones when omitted. */
    entities: z.array(z.string()).min(1).optional(),
  })
  .strict();

export interface PlanRunInput {
  /** The execution input, as the user or the schedule sent it. */
  request: unknown;
  executionName: string;
  /** `$$.Execution.StartTime`. */
  startedAt: string;
}

export interface PlanRunResult {
  runId: string;
  runDate: string;
  runStartedAt: string;
  entities: string[];
}

/**
 * Validates the execution input against the config and fixes the run's identity.
 *
 * The run id is the execution name, so a redrive of the same execution writes to the same keys.
 *
 * @param input - the raw request and the execution's identity
 * @param deps - the validated config
 */
export const runPlanRun = (input: PlanRunInput, deps: { config: StrataConfig }): PlanRunResult => {
  const request = parseOrThrow(runRequestSchema, input.request ?? {}, 'execution input');
  const configured = deps.config.queries.map((query) => query.name);
  const unknown = (request.entities ?? []).filter((entity) => !configured.includes(entity));
  if (unknown.length > 0) {
    throw new BadInputError(
      `execution input: entities: unknown ${unknown.map((e) => `"${e}"`).join(', ')} (configured: ${configured.join(', ')})`
    );
  }
  const started = new Date(input.startedAt);
  if (Number.isNaN(started.getTime())) {
    throw new BadInputError(`startedAt: "${input.startedAt}" is not a timestamp`);
  }
  return {
    runId: assertRunId(input.executionName),
    runDate: started.toISOString().slice(0, 10),
    runStartedAt: started.toISOString(),
    entities: request.entities ?? configured,
  };
};
