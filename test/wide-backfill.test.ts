import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillFeeds } from '../packages/local/src/cli/backfillFeeds.js';
import { listSourceFiles, uploadSourceFiles } from '../packages/local/src/cli/sourceFiles.js';
import { EmbeddedRuntime } from '../packages/local/src/runtime/EmbeddedRuntime.js';
import { serveLocalExecutions } from '../packages/local/src/sfn-api/localExecutions.js';

let dir: string;

/** GitHub's webhook payloads as @octokit/webhooks-examples ships them (api.github.com). */
const webhookPayloads = async (): Promise<unknown[]> => {
  const require = createRequire(import.meta.url);
  const root = dirname(dirname(require.resolve('@octokit/webhooks-examples')));
  const events = JSON.parse(await readFile(join(root, 'api.github.com', 'index.json'), 'utf8')) as {
    examples: unknown[];
  }[];
  return events.flatMap((event) => event.examples);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-wide-backfill-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('backfill of a folder of real, wide webhook payloads', () => {
  it('types them in the local runtime as FlattenBatch would in Lambda: JSON Lines, gzip and a JSON array', async () => {
    // Prepare: a user's folder of about 2,900 distinct paths, in the three shapes a folder holds
    const payloads = await webhookPayloads();
    const source = join(dir, 'source');
    await mkdir(join(source, '2024'), { recursive: true });
    const lines = `${payloads.map((payload) => JSON.stringify(payload)).join('\n')}\n`;
    await writeFile(join(source, '2024', 'hooks.jsonl'), lines);
    await writeFile(join(source, 'hooks.jsonl.gz'), gzipSync(lines));
    await writeFile(join(source, 'hooks.json'), JSON.stringify(payloads, null, 2));
    const runtime = await EmbeddedRuntime.start({ dir: join(dir, 'lake'), scale: 0.002 });
    const local = await serveLocalExecutions(runtime);

    try {
      // Act
      await uploadSourceFiles(runtime, 'hooks', await listSourceFiles(source));
      const [run] = await backfillFeeds(runtime, local.executions, ['hooks'], {
        out: () => {},
        err: () => {},
      });

      // Assess: one batch, which needs more of DuckDB's memory than a 2,048 MB function gives
      expect(run?.status).toBe('SUCCEEDED');
      if (run?.status !== 'SUCCEEDED') return;
      expect(run.summary.report).toMatchObject({
        recordsRead: 3 * payloads.length,
        rowsWritten: 3 * payloads.length,
        recordsQuarantined: 0,
      });
      expect(run.summary.typing?.shares.typedOrChild).toBeGreaterThan(0.98);
    } finally {
      await local.close();
      await runtime.stop();
    }
  });
});
