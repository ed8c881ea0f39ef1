import { breakerSettings, guardFeatureSink } from '@strata/core/breaker';
import { loadConfig, parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import {
  featureIngestInputSchema,
  loadFeatureContract,
  runFeatureIngestStep,
} from '@strata/core/feature-ingest';
import type { Context } from 'aws-lambda';
import { awsPlatform } from './_shared/aws.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/**
 * A range stops starting batches this long before the invocation's end: one batch of 500 at a
 * hard-throttled pace (~10 records/s) takes ~50 s, plus its dead letters and marker.
 */
const STOP_BEFORE_END_MS = 90_000;

/** FeatureIngest: publishes gold ml_features to the feature store, in three steps. */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'feature-ingest',
    async (event, context: Context) => {
      const input = parseOrThrow(featureIngestInputSchema, event, 'feature-ingest input');
      const { store, featureSink, featureDeadLetters, featureGroup, breaker } = platform();
      const config = await loadConfig(store);
      const settings = config.feature_ingest;
      return DuckDbEngine.use(engineOptions(context), async (engine) =>
        runFeatureIngestStep(input, {
          store,
          engine,
          sink: guardFeatureSink(featureSink(), breaker('feature-store', breakerSettings(config))),
          deadLetters: featureDeadLetters(),
          featureGroup: featureGroup(config),
          contract: await loadFeatureContract(),
          settings: {
            recordsPerBatch: settings.records_per_batch,
            recordsPerRange: settings.records_per_range,
            maxFailedShare: settings.max_failed_share,
            maxDeletedShare: settings.max_deleted_share,
          },
          deadline: Date.now() + context.getRemainingTimeInMillis() - STOP_BEFORE_END_MS,
        })
      );
    },
    // Rows are counted where they are sent, once: by each range.
    (result) => ({ rows: 'sent' in result ? result.sent : undefined })
  );

export const handler = createHandler(awsPlatform);
