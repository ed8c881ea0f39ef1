import { breakerSettings, guardWarehouse } from '@strata/core/breaker';
import { parseOrThrow } from '@strata/core/config';
import { healthCheckInputSchema, runHealthCheck } from '@strata/core/health-check';
import { awsPlatformWith } from './_shared/aws.js';
import { awsWarehouse } from './_shared/awsWarehouse.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** HealthCheck: the pipeline's first state; a dependency that is down stops the run with one alert. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler('health-check', async (event) => {
    const input = parseOrThrow(healthCheckInputSchema, event, 'health-check input');
    const { store, warehouse, breaker, featureGroups, featureGroup, notifier } = platform();
    return runHealthCheck(input, {
      store,
      // Through the warehouse's breaker: an open one fails the check at once, and a warehouse
      // that does not answer counts towards opening it.
      warehouse: async (config) =>
        guardWarehouse(await warehouse(config), breaker('warehouse', breakerSettings(config))),
      featureGroups: featureGroups(),
      featureGroup,
      notifier: notifier(),
    });
  });

export const handler = createHandler(awsPlatformWith(awsWarehouse));
