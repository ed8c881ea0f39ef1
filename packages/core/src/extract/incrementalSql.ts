import { type QueryConfig, quoteIdentifier } from '../config/index.js';
import type { BindValue, WatermarkState } from '../ports/index.js';

/** What one extract sends to the warehouse. */
export interface ExtractStatement {
  sql: string;
  binds: BindValue[];
  /** Rows at exactly the stored watermark whose keys are in `keys` were already extracted. */
  skipTies?: { value: string; keys: ReadonlySet<string> };
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The watermark to read from when re-reading a lookback window: `lookback` seconds earlier for a
 * date or time, `lookback` units lower for a number.
 *
 * @param value - the stored watermark, as the warehouse returned it
 * @param lookback - how far back
 */
export const lookbackFrom = (value: string, lookback: number): string => {
  if (NUMBER.test(value)) return String(Number(value) - lookback);
  const time = Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(time)) {
    throw new Error(`watermark "${value}" is neither a number nor a date/time`);
  }
  const earlier = new Date(time - lookback * 1000).toISOString();
  return DATE_ONLY.test(value) ? earlier.slice(0, 10) : earlier;
};

/**
 * The statement an extract runs: the configured SQL as a subquery, filtered past the watermark
 * with a bind value (never pasted into the text) and ordered by it, so the last row read holds
 * the new watermark and a run cut short by `max_batches` resumes exactly where it stopped.
 *
 * The filter is inclusive (`>=`): rows that share the stored watermark value but arrived after
 * the last run are read again, and the tie set of keys already extracted at that value is
 * skipped, so nothing at a batch or run boundary is lost or read twice. With a lookback window
 * the re-read rows are kept on purpose and deduplicated downstream.
 *
 * @param query - the validated query config
 * @param state - the stored watermark, if any
 */
export const extractStatement = (query: QueryConfig, state?: WatermarkState): ExtractStatement => {
  if (query.mode === 'full_refresh' || !query.watermark_column) {
    return { sql: query.sql, binds: [] };
  }
  const source = 'strata_source';
  const watermark = `${source}.${quoteIdentifier(query.watermark_column)}`;
  const order = [watermark, ...query.primary_key.map((c) => `${source}.${quoteIdentifier(c)}`)];
  const from = state?.value;
  const base = `select * from (\n${query.sql}\n) as ${source}`;
  if (from === undefined) {
    return { sql: `${base}\norder by ${order.join(', ')}`, binds: [] };
  }
  const lookback = query.lookback;
  return {
    sql: `${base}\nwhere ${watermark} >= ?\norder by ${order.join(', ')}`,
    binds: [lookback ? lookbackFrom(from, lookback) : from],
    ...(lookback ? {} : { skipTies: { value: from, keys: new Set(state?.tieKeys ?? []) } }),
  };
};
