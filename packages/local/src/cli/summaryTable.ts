import type { SummaryRow } from '../runtime/summarizeRun.js';
import { count } from './format.js';

/**
 * Renders lines as an aligned text table with a rule under the header.
 *
 * @param header - column titles
 * @param body - the cells, one array per line
 * @param rightAligned - indexes of the numeric columns
 */
export const textTable = (
  header: readonly string[],
  body: readonly (readonly string[])[],
  rightAligned: readonly number[]
): string => {
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((line) => (line[column] ?? '').length))
  );
  const format = (line: readonly string[]) =>
    line
      .map((cell, column) =>
        rightAligned.includes(column)
          ? cell.padStart(widths[column] ?? 0)
          : cell.padEnd(widths[column] ?? 0)
      )
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(format)].join(
    '\n'
  );
};

/**
 * Renders the summary rows as an aligned text table.
 *
 * @param rows - the summary
 * @param bucketUri - prefix for locations, e.g. `s3://strata-lake/`
 */
export const summaryTable = (rows: readonly SummaryRow[], bucketUri: string): string =>
  textTable(
    ['layer', 'dataset', 'rows', 'location'],
    rows.map((row) => [
      row.layer,
      row.note ? `${row.dataset} (${row.note})` : row.dataset,
      count(row.rows),
      `${bucketUri}${row.location}`,
    ]),
    [2]
  );
