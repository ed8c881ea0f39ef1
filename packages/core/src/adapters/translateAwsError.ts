import { TerminalError, TransientError } from '../errors/index.js';

/** Network-level failures the SDK surfaces without a service response. */
const NETWORK = /ECONNRESET|ETIMEDOUT|ECONNREFUSED|EPIPE|EAI_AGAIN|socket hang up/;

/** Service error names that mean "slow down" whatever their HTTP status. */
const THROTTLING = new Set([
  'SlowDown',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

/** A service's own error response: every SDK v3 service exception carries `$fault` and `$metadata`. */
const isServiceError = (
  error: Error
): error is Error & { $fault: string; $metadata?: { httpStatusCode?: number } } =>
  '$fault' in error;

/**
 * Translates an AWS SDK failure into Strata's error contract at the adapter boundary:
 * throttling, 5xx, timeouts and dropped connections are worth a retry; every other service
 * error (access denied, validation, missing resource) is terminal.
 *
 * @example
 * catch (error) { throw translateAwsError(error, `s3 put ${key}`); }
 * @param error - what the SDK threw
 * @param action - what was being done, to start the message
 */
export const translateAwsError = (error: unknown, action: string): Error => {
  if (!(error instanceof Error)) return new TerminalError(`${action}: ${String(error)}`);
  const message = `${action}: ${error.name}: ${error.message}`;
  if (isServiceError(error)) {
    const status = error.$metadata?.httpStatusCode ?? 0;
    if (status >= 500 || status === 429 || THROTTLING.has(error.name)) {
      return new TransientError(message, { cause: error });
    }
    return new TerminalError(message, { cause: error });
  }
  const code = (error as { code?: unknown }).code;
  if (error.name === 'TimeoutError' || NETWORK.test(`${String(code)} ${error.message}`)) {
    return new TransientError(message, { cause: error });
  }
  return error;
};
