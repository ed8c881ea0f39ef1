import { loadConfig, parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { featureIngestInputSchema, runFeatureIngest } from '@strata/core/feature-ingest';
import { awsPlatform } from './_shared/aws.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/** FeatureIngest: publishes gold ml_features to the feature store. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'feature-ingest',
    async (event) => {
      const input = parseOrThrow(featureIngestInputSchema, event, 'feature-ingest input');
      const { store, featureSink, featureGroup } = platform();
      const config = await loadConfig(store);
      return DuckDbEngine.use(engineOptions(), (engine) =>
        runFeatureIngest(input, {
          store,
          engine,
          sink: featureSink(),
          featureGroup: featureGroup(config),
        })
      );
    },
    (result) => ({ rows: result.records })
  );

export const handler = createHandler(awsPlatform);
