import { loadConfig, parseOrThrow } from '@strata/core/config';
import { flattenOptionsOf } from '@strata/core/flatten';
import { planBacklogInputSchema, runPlanBacklog } from '@strata/core/plan-backlog';
import { z } from 'zod';
import { awsPlatform } from './_shared/aws.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/**
 * The execution's name and input, as the backfill state machine passes them. When weekly-sync
 * starts the backfill, Step Functions' nested-execution link
 * (`AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`, the parent's execution ARN) rides along in the
 * input; the plan does not use it.
 */
const eventSchema = z.object({
  runId: z.string().min(1),
  request: planBacklogInputSchema
    .omit({ runId: true })
    .extend({ AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: z.string().optional() })
    .strict(),
});

/** PlanBacklog: lists a feed's backlog (or one week of it) and bin-packs it into the map's manifest. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'plan-backlog',
    async (event) => {
      const { runId, request } = parseOrThrow(eventSchema, event, 'backfill input');
      const { AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: _parent, ...plan } = request;
      const { store, ledger } = platform();
      const { partition } = flattenOptionsOf((await loadConfig(store)).feeds[plan.feed]);
      return runPlanBacklog({ runId, ...plan }, { store, ledger, partition });
    },
    (result) => ({ feed: result.feed, bytes: result.bytes })
  );

export const handler = createHandler(awsPlatform);
