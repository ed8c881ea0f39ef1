import { join } from 'node:path';
import { generateBacklog } from '@strata/local/backlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbEngine } from '../engine/index.js';
import { loadRecords } from './loadRecords.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: loadRecords', () => {
  it('reads every generated object into exactly its records and its malformed parts', async () => {
    // Prepare
    const backlog = await generateBacklog({
      store: lake.store,
      targetBytes: 2 * 1024 * 1024,
      seed: 5,
    });

    // Act
    const seen = await DuckDbEngine.use({}, async (engine) => {
      const results = [];
      for (const [i, object] of backlog.objects.entries()) {
        const local = join(lake.dir, `object-${i}`);
        await lake.store.download(object.key, local);
        const loaded = await loadRecords(engine, local, {
          table: `o${i}`,
          gzip: object.gzip,
          scratch: join(lake.dir, `object-${i}.plain`),
        });
        results.push({
          key: object.key,
          records: loaded.records,
          malformed: loaded.rejected + (loaded.error ? 1 : 0),
        });
      }
      return results;
    });

    // Assess
    expect(seen).toEqual(
      backlog.objects.map((object) => ({
        key: object.key,
        records: object.records,
        malformed: object.malformed,
      }))
    );
  });

  it('names the line of a malformed record and keeps its text', async () => {
    // Prepare
    const path = join(lake.dir, 'three-lines.jsonl');
    await lake.store.put('tmp/three-lines.jsonl', '{"a":1}\n{"a": \n\n{"a":3}\n');
    await lake.store.download('tmp/three-lines.jsonl', path);

    // Act
    const rejected = await DuckDbEngine.use({}, async (engine) => {
      const loaded = await loadRecords(engine, path, {
        table: 't',
        gzip: false,
        scratch: `${path}.x`,
      });
      expect(loaded).toEqual({ format: 'jsonl', records: 2, rejected: 1 });
      return engine.all('select line_no, text, reason from t_rejected');
    });

    // Assess
    expect(rejected).toEqual([{ line_no: '2', text: '{"a": ', reason: 'not valid JSON' }]);
  });

  it('reports a truncated gzip as unreadable instead of as empty', async () => {
    // Prepare
    const { gzipSync } = await import('node:zlib');
    const gz = gzipSync(Buffer.from('{"a":1}\n'.repeat(1000)));
    await lake.store.put('tmp/cut.jsonl.gz', gz.subarray(0, gz.length / 2));
    const path = join(lake.dir, 'cut.jsonl.gz');
    await lake.store.download('tmp/cut.jsonl.gz', path);

    // Act
    const loaded = await DuckDbEngine.use({}, (engine) =>
      loadRecords(engine, path, { table: 'c', gzip: true, scratch: `${path}.plain` })
    );

    // Assess
    expect(loaded).toMatchObject({ format: 'unreadable', records: 0 });
    expect(loaded.error).toMatch(/^gzip: /);
  });
});
