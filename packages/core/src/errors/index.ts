import { statfs } from 'node:fs/promises';

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

/**
 * A call refused by an open circuit breaker (the dependency failed too often lately): the same
 * `Strata.Transient` as any outage, so the ASL's Retry waits and tries again — once the breaker's
 * cool-down has passed, the retry is the one probe that may close it. `code` tells the two apart.
 */
export class CircuitOpenError extends TransientError {
  readonly code = 'CircuitOpen';
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

/** How Node and DuckDB say that a disk is full or over its quota. */
const DISK_FULL = /\b(ENOSPC|EDQUOT)\b|No space left on device|Disk quota exceeded/;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * A full disk as Strata's error, naming the disk: `Strata.Terminal`, since a retry on the same
 * machine finds the disk as full (Lambda's /tmp keeps what an invocation left), with what the
 * disk holding `dir` has free. Anything else comes back as it was.
 *
 * @example
 * catch (error) { throw await asDiskFull(error, tmpdir()); }
 * @param error - what a write threw (Node's ENOSPC, DuckDB's "No space left on device")
 * @param dir - a directory on the disk that was written to
 */
export const asDiskFull = async (error: unknown, dir: string): Promise<unknown> => {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (!DISK_FULL.test(`${String(code)} ${error.message}`)) return error;
  const space = await statfs(dir).then(
    (disk) => ` (${mib(disk.bavail * disk.bsize)} free of ${mib(disk.blocks * disk.bsize)})`,
    () => ''
  );
  return new TerminalError(`disk full: no space left on the disk holding ${dir}${space}`);
};
