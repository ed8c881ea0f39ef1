import { tmpdir } from 'node:os';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';
import middy from '@middy/core';
import { asDiskFull, ErrorName } from '@strata/core/errors';
import type { Context } from 'aws-lambda';
import { STAGE_METRIC, type StageMeasure } from './metrics.js';
import { logger, metrics } from './observability.js';

/** The total of some counts, for a result that counts per dataset or model. */
export const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/**
 * Adds one invocation's metrics to the buffer: its duration and failure, and what its result
 * counted, under `stage` and again under `stage` and `feed`.
 */
const addStageMetrics = (
  stage: string,
  milliseconds: number,
  outcome: { measure: StageMeasure } | { error: Error | null }
) => {
  const counts: [string, number | undefined, Unit][] =
    'measure' in outcome
      ? [
          [STAGE_METRIC.rows, outcome.measure.rows, MetricUnit.Count],
          [STAGE_METRIC.bytes, outcome.measure.bytes, MetricUnit.Bytes],
          [STAGE_METRIC.quarantined, outcome.measure.quarantined, MetricUnit.Count],
        ]
      : [
          [STAGE_METRIC.failures, 1, MetricUnit.Count],
          [
            STAGE_METRIC.qualityFailures,
            outcome.error?.name === ErrorName.QualityFailed ? 1 : 0,
            MetricUnit.Count,
          ],
        ];
  counts.push([STAGE_METRIC.duration, milliseconds, MetricUnit.Milliseconds]);
  const present = counts.filter(([, value]) => value !== undefined) as [string, number, Unit][];
  const add = (dimensions: Record<string, string>) => {
    metrics.addDimensions(dimensions);
    for (const [name, value, unit] of present) metrics.addMetric(name, unit, value);
  };
  add({ stage });
  const feed = 'measure' in outcome ? outcome.measure.feed : undefined;
  if (feed) {
    // One EMF document has one set of dimensions: publish the stage's, then the feed's.
    metrics.publishStoredMetrics();
    add({ stage, feed });
  }
};

/**
 * Wraps a stage function as a Lambda handler: Powertools context on every log line, the
 * stage's metrics (STAGE_METRIC) published once per invocation, and one structured error line
 * before the error goes back to Step Functions, whose Retry/Catch match on its name.
 *
 * @param stage - the stage's name, for logs and the metrics' `stage` dimension
 * @param run - parses the event and calls one core function
 * @param measure - what the result counts (rows, bytes, quarantined, for which feed)
 */
export const stageHandler = <R>(
  stage: string,
  run: (event: unknown, context: Context) => Promise<R>,
  measure: (result: R) => StageMeasure = () => ({})
) => {
  let started = 0;
  return middy<unknown, R, Error, Context>(run)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use({
      before: () => {
        started = performance.now();
        logger.appendKeys({ stage });
      },
      after: (request) => {
        addStageMetrics(stage, performance.now() - started, {
          measure: measure(request.response as R),
        });
      },
      onError: async (request) => {
        // A stage that wrote its workspace full (in /tmp) fails as Strata.Terminal naming it.
        const error = (await asDiskFull(request.error, tmpdir())) as Error | null;
        request.error = error;
        addStageMetrics(stage, performance.now() - started, { error });
        logger.error(`${stage} failed`, {
          errorName: error?.name,
          errorMessage: error?.message,
        });
      },
    });
};
