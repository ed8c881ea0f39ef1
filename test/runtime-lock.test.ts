import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorName } from '@strata/core/errors';
import { EmbeddedRuntime, LOCK_FILE } from '@strata/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;

/** A process that stays up until it is killed, standing in for a running CLI. */
const idleProcess = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  dir = await mkdtemp(join(tmpdir(), 'strata-lock-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Class: EmbeddedRuntime (the directory lock)', () => {
  it('refuses a directory whose lock names a process that runs', async () => {
    // Prepare
    const holder = idleProcess();
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, LOCK_FILE), JSON.stringify({ pid: holder.pid, startedAt: 'then' }));

    // Act
    const started = EmbeddedRuntime.start({ dir: busy, scale: 0.001 });

    // Assess
    await expect(started).rejects.toMatchObject({ name: ErrorName.BadInput });
    await expect(started).rejects.toThrow(`is in use by strata (pid ${holder.pid}, since then)`);
    holder.kill();
    await once(holder, 'exit');
  });

  it('takes over the directory of a killed run and ends the claims it left', async () => {
    // Prepare: a run claimed an object, then its process died without stopping
    const killed = join(dir, 'killed');
    const first = await EmbeddedRuntime.start({ dir: killed, scale: 0.001 });
    await first.ledger.claim('raw/f/a.jsonl', 'run-1-f-000000', new Date(), 30 * 60_000);
    // Everything but the lock goes as a killed process's would, its claims untouched.
    await first.featureStore.close();
    await first.dynamo.stop();
    await first.s3.stop();
    const gone = idleProcess();
    gone.kill();
    await once(gone, 'exit');
    await writeFile(join(killed, LOCK_FILE), JSON.stringify({ pid: gone.pid, startedAt: 'then' }));

    // Act
    const rerun = await EmbeddedRuntime.start({ dir: killed, scale: 0.001 });
    const claim = await rerun.ledger.claim('raw/f/a.jsonl', 'run-2-f-000000', new Date(), 60_000);
    await rerun.stop();

    // Assess
    expect(rerun.deadHolder).toEqual({ pid: gone.pid, startedAt: 'then', leasesEnded: 1 });
    expect(claim).toMatchObject({ granted: true, previous: { batchId: 'run-1-f-000000' } });
  });
});
