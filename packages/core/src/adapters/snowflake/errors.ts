import {
  BadInputError,
  isStrataError,
  type StrataError,
  TerminalError,
  TransientError,
} from '../../errors/index.js';

/** What a Snowflake failure means for the run. */
export const SnowflakeFailure = {
  /** Retrying may succeed: network, throttling, service unavailable, timeouts, expired session. */
  Transient: 'transient',
  /** The statement is wrong: syntax, unknown object or identifier, bad data in a cast. */
  BadInput: 'bad-input',
  /** Retrying cannot help: authentication, authorization, account or client configuration. */
  Terminal: 'terminal',
} as const;

export type SnowflakeFailure = (typeof SnowflakeFailure)[keyof typeof SnowflakeFailure];

/** Node and socket error codes of a dropped or unreachable connection. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * snowflake-sdk's own numeric codes (`ErrorCode` in lib/error_code) that a retry can fix:
 * could not connect (401001), no JSON in the response (401003), an expired session token
 * (401004), result-chunk download failures (402001, 402002), OCSP responder and cache-server
 * timeouts (412012, 412013).
 */
const SDK_TRANSIENT = new Set([401001, 401003, 401004, 402001, 402002, 412012, 412013]);

/**
 * Snowflake server codes (the `code` of an OperationFailedError) worth a retry: internal and
 * incident errors (000603, 000605), statement timeouts and queue aborts (000630, 000625, 000604
 * when cancelled by the service), and expired or gone sessions (390111, 390112, 390114).
 */
const SERVER_TRANSIENT = new Set([
  '000603',
  '000604',
  '000605',
  '000625',
  '000630',
  '390111',
  '390112',
  '390114',
]);

/** HTTP statuses of a RequestFailedError that mean "try again". */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

interface SnowflakeErrorShape {
  name?: unknown;
  code?: unknown;
  sqlState?: unknown;
  cause?: unknown;
  response?: { statusCode?: unknown; status?: unknown };
}

const shapeOf = (error: unknown): SnowflakeErrorShape =>
  typeof error === 'object' && error !== null ? (error as SnowflakeErrorShape) : {};

/** True when `error` or one of its causes carries a network error code. */
const isNetworkError = (error: unknown, depth = 0): boolean => {
  const shape = shapeOf(error);
  if (shape.name === 'NetworkError' || shape.name === 'TimeoutError') return true;
  if (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code)) return true;
  return depth < 3 && shape.cause !== undefined && isNetworkError(shape.cause, depth + 1);
};

/**
 * Classifies a snowflake-sdk failure by its codes, never by its wording.
 *
 * Order matters: network failures first (they have no server code), then snowflake-sdk's own
 * numeric codes, then the server's code and SQLSTATE. Anything unrecognised is terminal, so an
 * unknown failure stops the run instead of being retried blindly.
 *
 * @example
 * classifySnowflakeError({ code: '002003', sqlState: '42S02' }); // 'bad-input'
 * @param error - what the SDK reported
 */
export const classifySnowflakeError = (error: unknown): SnowflakeFailure => {
  if (isNetworkError(error)) return SnowflakeFailure.Transient;
  const { code, sqlState, response } = shapeOf(error);
  const numeric = typeof code === 'number' ? code : undefined;
  if (numeric !== undefined) {
    if (SDK_TRANSIENT.has(numeric)) return SnowflakeFailure.Transient;
    if (numeric === 401002) {
      // ERR_SF_RESPONSE_FAILURE: an HTTP error; 5xx and throttling pass, 4xx (e.g. 403) do not.
      const status = Number(response?.statusCode ?? response?.status);
      return RETRYABLE_STATUS.has(status) ? SnowflakeFailure.Transient : SnowflakeFailure.Terminal;
    }
    // 409xxx: the statement options (binds) were rejected before anything was sent.
    if (numeric >= 409000 && numeric < 410000) return SnowflakeFailure.BadInput;
    // 404xxx/405xxx (invalid options, private key, authenticator), OCSP/CRL failures, the rest.
    return SnowflakeFailure.Terminal;
  }
  const serverCode = typeof code === 'string' ? code : '';
  const state = typeof sqlState === 'string' ? sqlState : '';
  if (SERVER_TRANSIENT.has(serverCode)) return SnowflakeFailure.Transient;
  // 390xxx: login and session errors (390100 bad credentials, 390102 user locked, 390144 JWT
  // invalid, 390189/390201 role or database not granted), apart from the expired sessions above.
  if (serverCode.startsWith('390')) return SnowflakeFailure.Terminal;
  // 42501 (003001 "insufficient privileges"): access, not SQL; 28xxx: authorization spec.
  if (state === '42501' || state.startsWith('28')) return SnowflakeFailure.Terminal;
  // 08xxx connection exceptions, 57xxx operator intervention / resources, XX000 internal.
  if (state.startsWith('08') || state.startsWith('57') || state === 'XX000')
    return SnowflakeFailure.Transient;
  // 42xxx: SQL compilation (001003 syntax, 000904 invalid identifier, 002003 unknown object);
  // 22xxx: data exceptions (100038 numeric value not recognized, 100051 division by zero).
  if (state.startsWith('42') || state.startsWith('22')) return SnowflakeFailure.BadInput;
  return SnowflakeFailure.Terminal;
};

/** The message of any thrown value, with its codes, for an error that wraps it. */
const detail = (error: unknown): string => {
  const { code, sqlState } = shapeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const codes = [
    code === undefined ? undefined : `code ${String(code)}`,
    typeof sqlState === 'string' ? `sqlstate ${sqlState}` : undefined,
  ].filter(Boolean);
  return codes.length > 0 ? `${message} (${codes.join(', ')})` : message;
};

/**
 * Translates a snowflake-sdk failure into Strata's error contract at the adapter boundary.
 * A Strata error passes through unchanged.
 *
 * @example
 * catch (error) { throw translateSnowflakeError(error, `snowflake query [statement: ${s}]`); }
 * @param error - what the SDK threw or passed to a callback
 * @param action - what was being done, to start the message (names the statement)
 * @param redact - removes secrets from the message (the private key must never appear)
 */
export const translateSnowflakeError = (
  error: unknown,
  action: string,
  redact: (text: string) => string = (text) => text
): StrataError => {
  if (isStrataError(error)) return error;
  const message = redact(`${action}: ${detail(error)}`);
  switch (classifySnowflakeError(error)) {
    case SnowflakeFailure.Transient:
      return new TransientError(message, { cause: error });
    case SnowflakeFailure.BadInput:
      return new BadInputError(message, { cause: error });
    case SnowflakeFailure.Terminal:
      return new TerminalError(message, { cause: error });
  }
};
