import type { SummaryRow } from '../runtime/summarizeRun.js';

/**
 * Renders the summary rows as an aligned text table.
 *
 * @param rows - the summary
 * @param bucketUri - prefix for locations, e.g. `s3://strata-lake/`
 */
export const summaryTable = (rows: readonly SummaryRow[], bucketUri: string): string => {
  const header = ['layer', 'dataset', 'rows', 'location'];
  const body = rows.map((row) => [
    row.layer,
    row.reason ? `${row.dataset} (${row.reason})` : row.dataset,
    row.rows.toLocaleString('en-US'),
    `${bucketUri}${row.location}`,
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((line) => (line[column] ?? '').length))
  );
  const format = (line: string[]) =>
    line
      .map((cell, column) =>
        column === 2 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)
      )
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(format)].join(
    '\n'
  );
};
