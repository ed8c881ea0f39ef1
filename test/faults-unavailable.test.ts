import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedRuntime } from '@strata/local/runtime';
import { describe, expect, it } from 'vitest';
import { firstBatchFailure } from '../packages/local/src/cli/backfillFeeds.js';
import { TEST_TIME_SCALE } from './support/runtime.js';

// A feed the configuration does not name: flattened with the defaults, no partition.
const FEED = 'wallets';

/**
 * A backfill of one small object on a runtime of its own (the suite helper restores the config
 * in S3 after each test, and the service stays down), with `outage` run as the first batch
 * starts; returns the outcome, the alerts written and the CLI's word on the failed batch.
 */
const backfillThrough = async (
  name: string,
  outage: (runtime: EmbeddedRuntime) => Promise<void>
): Promise<{
  outcome: Awaited<ReturnType<EmbeddedRuntime['execute']>>;
  alerts: string;
  /** What the CLI adds to the execution's error: the first failed batch's. */
  told: string | undefined;
}> => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const dir = await mkdtemp(join(tmpdir(), 'strata-outage-'));
  const runtime = await EmbeddedRuntime.start({ dir, scale: 0.002, timeScale: TEST_TIME_SCALE });
  try {
    await runtime.store.put(`raw/${FEED}/${name}/part-0.jsonl`, '{"id":1}\n');
    let stopped = false;
    const outcome = await runtime.execute('backfill', {
      executionName: name,
      input: { feed: FEED, prefix: `raw/${FEED}/${name}/` },
      functionOverrides: {
        FlattenBatch: (real) => async (event, fn) => {
          if (!stopped) await outage(runtime);
          stopped = true;
          return real(event, fn);
        },
      },
    });
    return {
      outcome,
      alerts: await readFile(join(dir, 'alerts.log'), 'utf8'),
      told:
        outcome.status === 'FAILED'
          ? await firstBatchFailure(runtime, FEED, name, outcome.redrive?.mapRun?.Key)
          : undefined,
    };
  } finally {
    // What is down cannot end the run's claims: stopping ends what is left.
    await runtime.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
};

describe('a backfill whose local services stop mid-run (embedded runtime)', () => {
  it('fails with Strata.Transient naming the refused connection when S3 stops, and raises the alarm', async () => {
    // Act: S3 goes away as the first batch starts
    const { outcome, alerts } = await backfillThrough('backfill-outage', (runtime) =>
      runtime.s3.stop()
    );

    // Assess: the batches fail and are retried as Strata.Transient; the map cannot even write
    // its results, and says why
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.ResultWriterFailed',
      cause: expect.stringMatching(/Strata\.Transient: s3 put .*ECONNREFUSED/),
    });
    expect(alerts).toContain('backfill-outage failed');
  });

  it('fails with Strata.Transient naming the refused connection when DynamoDB stops, and raises the alarm', async () => {
    // Act: the ledger's DynamoDB goes away as the first batch starts
    const { outcome, alerts, told } = await backfillThrough('backfill-ledger-outage', (runtime) =>
      runtime.dynamo.stop()
    );

    // Assess: the batch fails (after its retries) as Strata.Transient, the map beyond its
    // tolerance; with the ledger down, the CLI finds the batch's error in the Map Run's results
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
    });
    expect(told).toMatch(
      /^batch backfill-ledger-outage-wallets-000000 failed with Strata\.Transient: ledger .*ECONNREFUSED/
    );
    expect(alerts).toContain('backfill-ledger-outage failed');
  });
});
