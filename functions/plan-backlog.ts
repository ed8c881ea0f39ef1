import { parseOrThrow } from '@strata/core/config';
import { planBacklogInputSchema, runPlanBacklog } from '@strata/core/plan-backlog';
import { z } from 'zod';
import { awsPlatform } from './_shared/aws.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** The execution's name and input, as the backfill state machine passes them. */
const eventSchema = z.object({
  runId: z.string().min(1),
  request: planBacklogInputSchema.omit({ runId: true }).strict(),
});

/** PlanBacklog: lists a feed's backlog and bin-packs it into the map's JSONL manifest. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler('plan-backlog', async (event) => {
    const { runId, request } = parseOrThrow(eventSchema, event, 'backfill input');
    const { store, ledger } = platform();
    return runPlanBacklog({ runId, ...request }, { store, ledger });
  });

export const handler = createHandler(awsPlatform);
