import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/index.js';
import { discoverStructure } from './discoverStructure.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-discover-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 3,000 records; record 2,501 (past the head sample) brings new keys. */
const driftingLines = () =>
  Array.from({ length: 3000 }, (_, i) => {
    const record: Record<string, unknown> = { id: i, user: { name: `u${i}` } };
    if (i === 2500) {
      record.late = { deep: { x: 1 } };
      (record.user as Record<string, unknown>).nickname = 'n';
    }
    return JSON.stringify(record);
  }).join('\n');

describe('Function: discoverStructure', () => {
  it('finds keys that first appear after the sampled records, down to their nested fields', async () => {
    // Prepare
    const path = join(dir, 'drift.jsonl');
    await writeFile(path, driftingLines());

    // Act
    const found = await DuckDbEngine.use({}, (engine) =>
      discoverStructure(engine, [{ format: 'newline_delimited', paths: [path] }], {
        maxDepth: 3,
        known: {},
      })
    );

    // Assess
    expect(found.structure).toEqual({
      id: 'UBIGINT',
      user: { name: 'VARCHAR', nickname: 'VARCHAR' },
      late: { deep: { x: 'UBIGINT' } },
    });
    expect(found.records.get(path)).toBe(3000);
    expect(found.unreadable.size).toBe(0);
  });

  it('keeps an object whose keys are data whole, whether the sample or the pass finds them', async () => {
    // Prepare: `names` holds two keys of its own in each of the first records, or one in each
    // record after the sampled head
    const inHead = join(dir, 'map-head.jsonl');
    await writeFile(
      inHead,
      Array.from({ length: 1200 }, (_, i) =>
        JSON.stringify({ id: i, names: { [`a${i}`]: 1, [`b${i}`]: { x: 'y' } } })
      ).join('\n')
    );
    const afterHead = join(dir, 'map-late.jsonl');
    await writeFile(
      afterHead,
      Array.from({ length: 3000 }, (_, i) =>
        JSON.stringify({ id: i, names: i < 1000 ? { a: 1 } : { a: 1, [`n${i}`]: { x: i } } })
      ).join('\n')
    );

    // Act
    const [head, late] = await DuckDbEngine.use({}, (engine) =>
      Promise.all(
        [inHead, afterHead].map((path) =>
          discoverStructure(engine, [{ format: 'newline_delimited', paths: [path] }], {
            maxDepth: 3,
            known: {},
          })
        )
      )
    );

    // Assess
    expect(head?.structure).toEqual({ id: 'UBIGINT', names: 'JSON' });
    expect(late?.structure).toEqual({ id: 'UBIGINT', names: 'JSON' });
    expect(late?.records.get(afterHead)).toBe(3000);
  });

  /** Discovers one file, counting the passes that list every record's keys. */
  const discoverCounting = (path: string) =>
    DuckDbEngine.use({}, async (engine) => {
      let passes = 0;
      const all = engine.all.bind(engine);
      engine.all = (sql) => {
        if (sql.includes('json_keys(')) passes++;
        return all(sql);
      };
      const found = await discoverStructure(
        engine,
        [{ format: 'newline_delimited', paths: [path] }],
        { maxDepth: 3, known: {} }
      );
      return { found, passes };
    });

  it('reads a file once for a key so rare that its sample holds every record with it', async () => {
    // Prepare
    const path = join(dir, 'rare.jsonl');
    await writeFile(path, driftingLines());

    // Act
    const { found, passes } = await discoverCounting(path);

    // Assess: the subtree sample took the one record holding late and nickname, all of it
    expect(passes).toBe(1);
    expect(found.structure).toMatchObject({ late: { deep: { x: 'UBIGINT' } } });
  });

  it('reads a file again for a key held by more records than its sample takes', async () => {
    // Prepare: 1,500 records past the head hold n, as numbers until the last 300, then as text
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ id: i, ...(i >= 1500 ? { n: i >= 2700 ? `t${i}` : i } : {}) })
    );
    const path = join(dir, 'common.jsonl');
    await writeFile(path, lines.join('\n'));

    // Act
    const { found, passes } = await discoverCounting(path);

    // Assess: the sample of records holding n saw numbers only; the second pass saw the text
    expect(passes).toBe(2);
    expect(found.structure).toEqual({ id: 'UBIGINT', n: 'JSON' });
  });

  it('keeps an object whole, as JSON, where a record past the sample holds a scalar instead', async () => {
    // Prepare: records already in DuckDB (the slow path's), sampled by their first 1,000
    const found = await DuckDbEngine.use({}, async (engine) => {
      await engine.run(
        `create table records as select ('{"id":' || i || ',"user":' || (case when i = 2500 then '"anonymous"' else '{"name":"u' || i || '"}' end) || '}')::json as record from range(3000) t(i)`
      );

      // Act
      return discoverStructure(
        engine,
        [
          {
            format: 'relation',
            paths: ['slow.jsonl'],
            sql: `select 'slow.jsonl' as filename, record as json from records`,
          },
        ],
        { maxDepth: 3, known: {} }
      );
    });

    // Assess
    expect(found.structure).toEqual({ id: 'UBIGINT', user: 'JSON' });
  });

  it('numbers the lines that hold no record within their own file, with the reason', async () => {
    // Prepare: the second file's lines count from 1 again
    const first = join(dir, 'first.jsonl');
    const second = join(dir, 'second.jsonl');
    await writeFile(first, '{"id":1}\n{"id":2}\n');
    await writeFile(second, '{"id":3}\n{"id": \n[4]\n{"id":5}\n"five"\n');

    // Act
    const found = await DuckDbEngine.use({}, (engine) =>
      discoverStructure(engine, [{ format: 'newline_delimited', paths: [first, second] }], {
        maxDepth: 3,
        known: {},
      })
    );

    // Assess
    expect(found.structure).toEqual({ id: 'UBIGINT' });
    expect(found.records).toEqual(
      new Map([
        [first, 2],
        [second, 2],
      ])
    );
    expect(found.rejected).toEqual(
      new Map([
        [
          second,
          new Map([
            [2, 'not valid JSON'],
            [3, 'not a JSON object'],
            [5, 'not a JSON object'],
          ]),
        ],
      ])
    );
  });

  it('lists every key of an object first seen past the head sample, not just the sampled ones', async () => {
    // Prepare: `meta` starts after the head sample; its `rare` key is in one record only
    const path = join(dir, 'late-object.jsonl');
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({
        id: i,
        ...(i >= 1000 ? { meta: { a: 1, ...(i === 2500 ? { rare: 2 } : {}) } } : {}),
      })
    );
    await writeFile(path, lines.join('\n'));

    // Act
    const found = await DuckDbEngine.use({}, (engine) =>
      discoverStructure(engine, [{ format: 'newline_delimited', paths: [path] }], {
        maxDepth: 3,
        known: {},
      })
    );

    // Assess
    expect(found.structure).toEqual({ id: 'UBIGINT', meta: { a: 'UBIGINT', rare: 'UBIGINT' } });
  });

  it('knows every kind a typed value took, not just the sampled kinds; text takes any value', async () => {
    // Prepare
    const path = join(dir, 'kinds.jsonl');
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({
        amount: i === 2500 ? 2.5 : i,
        code: i === 2600 ? 'N/A' : i,
        tag: i === 2700 ? { nested: true } : 't',
      })
    );
    await writeFile(path, lines.join('\n'));

    // Act
    const found = await DuckDbEngine.use({}, (engine) =>
      discoverStructure(engine, [{ format: 'newline_delimited', paths: [path] }], {
        maxDepth: 3,
        known: {},
      })
    );

    // Assess
    // An object where text was seen is read as its JSON text: nothing to learn, nothing lost.
    expect(found.structure).toEqual({ amount: 'DOUBLE', code: 'JSON', tag: 'VARCHAR' });
  });

  it('starts from the known structure and counts records per file, skipping malformed lines', async () => {
    // Prepare
    const clean = join(dir, 'clean.jsonl');
    const broken = join(dir, 'broken.jsonl');
    await writeFile(clean, '{"a":1}\n{"a":2}\n');
    await writeFile(broken, '{"a":3}\n{"a": \n{"a":4,"b":true}\n');

    // Act
    const found = await DuckDbEngine.use({}, (engine) =>
      discoverStructure(engine, [{ format: 'newline_delimited', paths: [clean, broken] }], {
        maxDepth: 3,
        known: { z: 'DOUBLE' },
      })
    );

    // Assess
    expect(found.structure).toEqual({ z: 'DOUBLE', a: 'UBIGINT', b: 'BOOLEAN' });
    expect(Object.fromEntries(found.records)).toEqual({ [clean]: 2, [broken]: 2 });
  });

  it('sets aside an array file DuckDB cannot read and reads the others', async () => {
    // Prepare
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    await writeFile(good, '[{"a":1},{"a":2,"c":"x"}]');
    await writeFile(bad, '[{"a":1},{"a":');

    // Act
    const found = await DuckDbEngine.use({}, (engine) =>
      discoverStructure(engine, [{ format: 'array', paths: [bad, good] }], {
        maxDepth: 3,
        known: {},
      })
    );

    // Assess
    expect([...found.unreadable]).toEqual([bad]);
    expect(Object.fromEntries(found.records)).toEqual({ [good]: 2 });
    expect(found.structure).toEqual({ a: 'UBIGINT', c: 'VARCHAR' });
  });
});
