import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedRuntime } from '@strata/local/runtime';
import { afterAll, afterEach, beforeAll } from 'vitest';

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
