import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger every handler shares; Powertools adds the Lambda context per invocation. */
export const logger = new Logger({ serviceName: 'strata' });
