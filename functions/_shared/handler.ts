import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
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
      onError: (request) => {
        const error = request.error;
        logger.error(`${stage} failed`, {
          errorName: error?.name,
          errorMessage: error?.message,
        });
      },
    });
