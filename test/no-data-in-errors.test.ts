import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stageHandler } from '../functions/_shared/handler.js';
import { logger } from '../functions/_shared/observability.js';
import { keysUnder } from './support/lake.js';
import { useEmbeddedRuntime } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);
// A feed the configuration does not name: flattened with the defaults, no partition.
const FEED = 'wallets';
/** What a person's record might hold, and no error, log line or map result may. */
const SECRET = 'SSN-078-05-1120';

const context = { functionName: 'FlattenBatch', awsRequestId: 'test' } as Context;

/** Everything the handlers log while `work` runs (Powertools writes JSON lines to stdout). */
const logsOf = async (work: () => Promise<unknown>) => {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  logger.setLogLevel('ERROR');
  try {
    await work();
  } finally {
    logger.setLogLevel('SILENT');
    vi.restoreAllMocks();
  }
  return lines.join('');
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('errors of a batch DuckDB fails on a record (embedded runtime)', () => {
  it('name the file and line in the map results, alert and logs, never the record', async () => {
    // Prepare: a batch whose read of a record fails inside DuckDB, through the real handler shape
    const key = `raw/${FEED}/secret/part-0.jsonl`;
    await suite.runtime.store.put(key, `{"id":1}\n{"id":"${SECRET}","ssn":"${SECRET}"}\n`);
    const failingRead = stageHandler('flatten-batch', () =>
      DuckDbEngine.use({}, (engine) =>
        Workspace.use('secret-batch', async (ws) => {
          await suite.runtime.store.download(key, ws.path('part-0.jsonl'));
          return engine.all(
            `select * from read_json('${ws.path('part-0.jsonl')}', columns = {id: 'BIGINT'}, format = 'newline_delimited')`
          );
        })
      )
    );

    // Act
    let status = '';
    const logs = await logsOf(async () => {
      const outcome = await suite.runtime.execute('backfill', {
        executionName: 'backfill-secret',
        input: { feed: FEED, prefix: `raw/${FEED}/secret/` },
        functionOverrides: { FlattenBatch: () => (event) => failingRead(event, context) },
      });
      status = outcome.status;
    });

    // Assess
    expect(status).toBe('FAILED');
    const results: string[] = [];
    for (const result of await keysUnder(suite.runtime.store, '_backfill/')) {
      results.push(new TextDecoder().decode(await suite.runtime.store.get(result)));
    }
    const failed = results.filter((body) => body.includes('JSON transform error'));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.join('')).toContain('part-0.jsonl');
    expect(failed.join('')).toContain('line 2');
    expect(logs).toContain('flatten-batch failed');
    expect(logs).toContain('line 2');
    // A map over its tolerance fails uncaught (for a redrive): the alarm alerts, nothing is
    // dead-lettered; failed batches within it are dead-lettered.
    const deadLetters = await readFile(join(suite.dir, 'dead-letter-queue.jsonl'), 'utf8').catch(
      () => ''
    );
    const alerts = await readFile(join(suite.dir, 'alerts.log'), 'utf8');
    for (const text of [...results, logs, deadLetters, alerts]) expect(text).not.toContain(SECRET);
  });
});
