/**
 * The closed set of error names Strata raises.
 *
 * Step Functions matches `ErrorEquals` against `error.name` exactly, so these strings are the
 * Retry/Catch contract between the domain code and the ASL files; `test/asl.test.ts` checks that
 * every `Strata.*` name an ASL file uses is listed here.
 */
export const ErrorName = {
  /** Worth retrying: throttling, 5xx, timeouts, a connection reset. */
  Transient: 'Strata.Transient',
  /** The input or the config is wrong; retrying cannot help. */
  BadInput: 'Strata.BadInput',
  /** Data failed a declared quality rule. */
  QualityFailed: 'Strata.QualityFailed',
  /** Anything else that must stop the run without a retry (access denied, bad SQL). */
  Terminal: 'Strata.Terminal',
} as const;

export type ErrorName = (typeof ErrorName)[keyof typeof ErrorName];

/** Base of every Strata error; `name` is one of {@link ErrorName}. */
export abstract class StrataError extends Error {
  abstract override readonly name: ErrorName;
}

/** A failure that may succeed when retried. */
export class TransientError extends StrataError {
  override readonly name = ErrorName.Transient;
}

/** Invalid input or configuration; the message names the field or statement. */
export class BadInputError extends StrataError {
  override readonly name = ErrorName.BadInput;
}

/** Data broke a quality rule. */
export class QualityFailedError extends StrataError {
  override readonly name = ErrorName.QualityFailed;
}

/** A failure that retrying cannot fix. */
export class TerminalError extends StrataError {
  override readonly name = ErrorName.Terminal;
}

/** True when `value` is one of Strata's own errors. */
export const isStrataError = (value: unknown): value is StrataError =>
  value instanceof Error && Object.values<string>(ErrorName).includes(value.name);
