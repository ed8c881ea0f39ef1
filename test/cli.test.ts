import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../packages/local/src/cli.ts', import.meta.url));

let dir: string;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `strata` CLI as `npm start` does, in its own process. */
const strata = (args: string[], onStdout?: (text: string, child: ChildProcess) => void) =>
  new Promise<Finished>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: {
        ...process.env,
        NODE_OPTIONS: '--openssl-legacy-provider',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('strata start', () => {
  it('runs the pipeline and prints non-zero rows for every layer, read from the lake', async () => {
    // Act
    const run = await strata(['start', '--dir', join(dir, 'ok'), '--scale', '0.002']);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Pipeline SUCCEEDED');
    for (const layer of ['bronze', 'silver', 'gold', 'features']) {
      const rows = run.stdout
        .split('\n')
        .filter((line) => line.startsWith(`${layer} `))
        .map((line) => Number(line.split(/\s{2,}/)[2]?.replaceAll(',', '')));
      expect(rows.length, layer).toBeGreaterThan(0);
      expect(
        rows.every((count) => count > 0),
        layer
      ).toBe(true);
    }
  });

  it('exits 1 with the failure reason and where the dead letter went', async () => {
    // Act
    const run = await strata(['start', '--dir', join(dir, 'bad'), '--entities', 'nope']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'Pipeline FAILED with Strata.BadInput: execution input: entities: unknown "nope"'
    );
    expect(run.stderr).toContain(join(dir, 'bad', 'dead-letter-queue.jsonl'));
  });

  it('stops local S3 and exits 130 on Ctrl-C', async () => {
    // Prepare
    let endpoint = '';

    // Act
    const run = await strata(['start', '--dir', join(dir, 'interrupted')], (stdout, child) => {
      const match = /local S3 at (http:\/\/\S+),/.exec(stdout);
      if (match && !endpoint) {
        endpoint = match[1] ?? '';
        child.kill('SIGINT');
      }
    });

    // Assess
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('SIGINT: stopping local S3');
    await expect(fetch(endpoint)).rejects.toThrow();
  });
});

describe('strata weekly-sync', () => {
  it('syncs the ISO week of the given date for every feed and prints each reconciliation', async () => {
    // Act
    const run = await strata(['weekly-sync', '--dir', join(dir, 'weekly'), '--week', '2026-12-31']);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const feed of ['clickstream', 'payments', 'devices']) {
      expect(run.stdout).toContain(
        `weekly-sync raw/${feed}/2026/week53/: 0 object(s), 0 batch(es), 0 records read`
      );
    }
  });

  it('exits 2 when --week is not a date', async () => {
    // Act
    const run = await strata(['weekly-sync', '--dir', join(dir, 'weekly'), '--week', 'soon']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--week: "soon" must be a date');
  });
});
