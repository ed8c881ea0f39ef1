import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { S3ObjectStore } from '@strata/core/adapters';
import { DuckDbEngine } from '@strata/core/engine';
import { BadInputError } from '@strata/core/errors';
import { collectRunReport } from '../report/collectRunReport.js';
import { renderRunReport } from '../report/renderRunReport.js';
import { LOCAL_BUCKET } from '../runtime/EmbeddedRuntime.js';
import { LocalS3 } from '../s3/LocalS3.js';
import { backfillRuns } from './status.js';

/** The run `latest` names: the newest of every feed's runs. */
export const LATEST = 'latest';

/**
 * The feed and run id of a run of the lake in `dir`, found among the reports `strata status`
 * reads; `latest` is the newest run of any feed. An unknown run is refused, naming the latest.
 *
 * @param dir - the runtime's `--dir`
 * @param run - a run id, or `latest`
 */
export const findRun = (dir: string, run: string): Promise<{ feed: string; runId: string }> =>
  DuckDbEngine.use({ threads: 1 }, async (engine) => {
    const rows = await backfillRuns(engine, dir, run === LATEST ? { perFeed: 1 } : { runId: run });
    const found = rows
      .map((row) => ({ feed: String(row.feed), runId: String(row.run) }))
      // Run ids start with the time they started; an id from elsewhere sorts as it may.
      .sort((a, b) => latestFirst(a.runId, b.runId))[0];
    if (found) return found;
    const recent = (await backfillRuns(engine, dir, { perFeed: 3 })).map((row) => row.run);
    throw new BadInputError(
      recent.length
        ? `no backfill run ${run} in ${dir}; its latest: ${recent.join(', ')}`
        : `no backfill run in ${dir}: run strata backfill there first, or pass --dir`
    );
  });

/** Newest first, by the time a CLI run id ends with, else by the id. */
const latestFirst = (a: string, b: string) => {
  const when = (id: string) => /\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(id)?.[0] ?? id;
  return when(b).localeCompare(when(a));
};

/**
 * Writes the HTML report of one backfill run of the lake in `dir` and returns where: the run's
 * objects are read through the lake's own local S3, started on its directory for the moment.
 *
 * @param options - the runtime's `--dir`, the run (or `latest`), and the file to write
 */
export const writeRunReport = async (options: {
  dir: string;
  run: string;
  out?: string;
}): Promise<{ path: string; feed: string; runId: string }> => {
  const { feed, runId } = await findRun(options.dir, options.run);
  const s3 = await LocalS3.start({ directory: join(options.dir, 's3'), buckets: [LOCAL_BUCKET] });
  const client = s3.client();
  try {
    const store = new S3ObjectStore({ bucket: LOCAL_BUCKET, client });
    const html = renderRunReport(await collectRunReport(store, { feed, runId }));
    const path = resolve(options.out ?? join(options.dir, 'reports', `${runId}.html`));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, html);
    return { path, feed, runId };
  } finally {
    client.destroy();
    await s3.stop();
  }
};
