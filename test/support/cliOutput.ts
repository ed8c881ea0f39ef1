import type { CliOutput } from '../../packages/local/src/cli/backfillFeeds.js';

/** Collects what the CLI would print, by stream. */
export const captureOutput = () => {
  const lines = { out: [] as string[], err: [] as string[] };
  const write: CliOutput = {
    out: (line) => lines.out.push(line),
    err: (line) => lines.err.push(line),
  };
  return { lines, write };
};
