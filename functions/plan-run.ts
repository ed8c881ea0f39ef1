import { loadConfig, parseOrThrow } from '@strata/core/config';
import { planRunInputSchema, runPlanRun } from '@strata/core/plan-run';
import { awsPlatform } from './_shared/aws.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** PlanRun: validates the execution input against the config and fixes the run's identity. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler('plan-run', async (event) => {
    const input = parseOrThrow(planRunInputSchema, event, 'plan-run input');
    const { store } = platform();
    return runPlanRun(input, { config: await loadConfig(store) });
  });

export const handler = createHandler(awsPlatform);
