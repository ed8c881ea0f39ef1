import { tmpdir } from 'node:os';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { asDiskFull } from '@strata/core/errors';
import type { Context } from 'aws-lambda';
import { logger } from './observability.js';

/**
 * Wraps a stage function as a Lambda handler: Powertools context on every log line, and one
 * structured error line before the error goes back to Step Functions, whose Retry/Catch match
 * on its name.
 *
 * @param stage - the stage's name, for logs
 * @param run - parses the event and calls one core function
 */
export const stageHandler = <R>(stage: string, run: (event: unknown) => Promise<R>) =>
  middy<unknown, R, Error, Context>(run)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: () => {
        logger.appendKeys({ stage });
      },
      onError: async (request) => {
        // A stage that wrote its workspace full (in /tmp) fails as Strata.Terminal naming it.
        const error = (await asDiskFull(request.error, tmpdir())) as Error | null;
        request.error = error;
        logger.error(`${stage} failed`, {
          errorName: error?.name,
          errorMessage: error?.message,
        });
      },
    });
