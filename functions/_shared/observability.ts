import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './metrics.js';

/** The one logger every handler shares; Powertools adds the Lambda context per invocation. */
export const logger = new Logger({ serviceName: METRICS_SERVICE });

/**
 * The one metrics buffer every handler shares, published as EMF log lines at the end of each
 * invocation (CloudWatch turns them into metrics; no API call). Off where
 * POWERTOOLS_METRICS_DISABLED says so, as the embedded runtime does.
 */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
