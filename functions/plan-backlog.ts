import { parseOrThrow } from '@strata/core/config';
import { planBacklogInputSchema, runPlanBacklog } from '@strata/core/plan-backlog';
import { awsPlatform } from './_shared/aws.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** PlanBacklog: lists a feed's backlog and bin-packs it into the map's JSONL manifest. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler('plan-backlog', async (event) => {
    const input = parseOrThrow(planBacklogInputSchema, event, 'plan-backlog input');
    const { store, ledger } = platform();
    return runPlanBacklog(input, { store, ledger });
  });

export const handler = createHandler(awsPlatform);
