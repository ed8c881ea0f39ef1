/** DuckDB's error kinds whose messages quote the data they failed on. */
const DATA_KINDS = /^(Invalid Input|Conversion|Out of Range|Constraint) Error:/;

/** Where DuckDB's message starts quoting a value, a record or the input. */
const QUOTED = /["'{[]|\bInput:/;

/**
 * A DuckDB error message cut down to what names the failure (its kind, the file, the line or
 * byte, the reason) without the data it quotes: DuckDB puts whole records, field values and
 * the SQL (with its literals) into its messages, and a message travels on into Step Functions'
 * error Cause, the map run's `FAILED_*.json` and the handlers' logs, none of which may hold
 * what may be personal data. Rejected records belong in quarantine, not in errors.
 *
 * Only the first line is kept (the rest is the SQL, hints and CSV reader settings); in a data
 * error the first line is cut where a quoted value starts, keeping the file's name.
 *
 * @example
 * withoutData('Conversion Error: Could not convert string \'x@y.z\' to INT64\n\nLINE 1: …');
 * // 'Conversion Error: Could not convert string …'
 * @param message - DuckDB's message
 */
export const withoutData = (message: string): string => {
  const [first = ''] = message.split('\n');
  if (!DATA_KINDS.test(first)) return first;
  const file = /in file ("[^"]*"|'[^']*')/.exec(first)?.[0];
  const masked = file ? first.replace(file, '\u0000') : first;
  const cut = masked.search(QUOTED);
  const kept = cut < 0 ? masked : `${masked.slice(0, cut).replace(/[\s:,]+$/, '')} …`;
  return file ? kept.replace('\u0000', file) : kept;
};
