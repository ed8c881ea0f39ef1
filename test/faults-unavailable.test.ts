import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedRuntime } from '@strata/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TIME_SCALE } from './support/runtime.js';

const FEED = 'payments';
let dir: string;
let runtime: EmbeddedRuntime;

// Its own runtime: the suite helper restores the config in S3 after each test, and S3 stays down.
beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  dir = await mkdtemp(join(tmpdir(), 'strata-outage-'));
  runtime = await EmbeddedRuntime.start({ dir, scale: 0.002, timeScale: TEST_TIME_SCALE });
});

afterAll(async () => {
  await runtime?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a backfill whose local S3 stops mid-run (embedded runtime)', () => {
  it('fails with Strata.Transient naming the refused connection, and raises the alarm', async () => {
    // Prepare: S3 goes away as the first batch starts
    await runtime.store.put(`raw/${FEED}/outage/part-0.jsonl`, '{"id":1}\n');
    let stopped = false;

    // Act
    const outcome = await runtime.execute('backfill', {
      executionName: 'backfill-outage',
      input: { feed: FEED, prefix: `raw/${FEED}/outage/` },
      functionOverrides: {
        FlattenBatch: (real) => async (event, name) => {
          if (!stopped) await runtime.s3.stop();
          stopped = true;
          return real(event, name);
        },
      },
    });

    // Assess: the batches fail and are retried as Strata.Transient; the map cannot even write
    // its results, and says why
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.ResultWriterFailed',
      cause: expect.stringMatching(/Strata\.Transient: s3 put .*ECONNREFUSED/),
    });
    const alerts = await readFile(join(dir, 'alerts.log'), 'utf8');
    expect(alerts).toContain('backfill-outage failed');
  });
});
