import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import { EmbeddedRuntime } from '@strata/local/runtime';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { keysUnder } from './lake.js';

/**
 * Local seconds per AWS second for Retry waits in tests: a 2 s interval waits 2 ms, backed off
 * and jittered as the ASL says, so retries are exercised without sleeping for real.
 */
export const TEST_TIME_SCALE = 0.001;

/** The suite's runtime and its directory, set once `beforeAll` has run. */
export interface SuiteRuntime {
  dir: string;
  runtime: EmbeddedRuntime;
}

/**
 * Gives a test file one embedded runtime in a temporary directory, restores the default config
 * after each test (tests that break the config on purpose cannot leak into the next), and stops
 * it afterwards.
 *
 * @param scale - TPC-H scale of the seeded warehouse
 */
export const useEmbeddedRuntime = (scale: number): SuiteRuntime => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const suite = {} as SuiteRuntime;
  beforeAll(async () => {
    suite.dir = await mkdtemp(join(tmpdir(), 'strata-test-'));
    suite.runtime = await EmbeddedRuntime.start({
      dir: suite.dir,
      scale,
      timeScale: TEST_TIME_SCALE,
    });
  });
  afterEach(async () => {
    await suite.runtime.putConfig(await suite.runtime.defaultConfig());
  });
  afterAll(async () => {
    await suite.runtime?.stop();
    await rm(suite.dir, { recursive: true, force: true });
  });
  return suite;
};

/**
 * Runs `work` on a DuckDB session with the runtime's catalog attached read-only (as `catalog`)
 * and every silver object of the feed downloaded, as `read_parquet` over the local copies.
 *
 * @param suite - the test file's runtime
 * @param feed - the feed whose silver objects are read
 * @param work - the checks, given the engine and the `read_parquet` expression
 */
export const withCatalogAndSilver = <T>(
  suite: SuiteRuntime,
  feed: string,
  work: (engine: DuckDbEngine, silver: string) => Promise<T>
): Promise<T> =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('catalog-check', async (ws) => {
      const files: string[] = [];
      for (const key of await keysUnder(suite.runtime.store, `silver/${feed}/`)) {
        files.push(ws.path(`${files.length}.parquet`));
        await suite.runtime.store.download(key, files.at(-1) as string);
      }
      await engine.run(
        `attach ${quoteLiteral(join(suite.dir, 'catalog.duckdb'))} as catalog (read_only)`
      );
      return work(
        engine,
        `read_parquet([${files.map(quoteLiteral).join(', ')}], union_by_name = true)`
      );
    })
  );
