import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine, Workspace } from '../engine/index.js';
import { conformFiles, widenedColumns } from './conformFiles.js';

let lake: LocalLake;
let engine: DuckDbEngine;

beforeAll(async () => {
  lake = await startLocalLake();
  engine = await DuckDbEngine.create();
});

afterAll(async () => {
  engine?.close();
  await lake?.stop();
});

/** Writes a one-file silver part from a query. */
const part = (key: string, query: string) =>
  Workspace.use('conform-test', async (ws) => {
    const file = ws.path('part.parquet');
    await engine.run(`copy (${query}) to ${quoteLiteral(file)} (format parquet)`);
    await lake.store.upload(key, file);
  });

/** A part's column types and rows, as read back from the lake. */
const readBack = (key: string) =>
  Workspace.use('conform-test', async (ws) => {
    const file = ws.path('back.parquet');
    await lake.store.download(key, file);
    const read = `read_parquet(${quoteLiteral(file)})`;
    const types = await engine.all(`describe select * from ${read}`);
    const rows = await engine.all(`select * from ${read} order by id`);
    return {
      types: Object.fromEntries(types.map((row) => [row.column_name, row.column_type])),
      rows: rows.map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)]))
      ),
    };
  });

describe('Function: widenedColumns', () => {
  it('names the columns whose merged type differs from the type the batch wrote', () => {
    // Act
    const casts = widenedColumns(
      [
        { name: 'n', path: '$."n"', type: 'BIGINT' },
        { name: 's', path: '$."s"', type: 'VARCHAR' },
        { name: 'only_here', path: '$."only_here"', type: 'BIGINT' },
      ],
      [
        { name: 'n', path: '$."n"', type: 'DOUBLE' },
        { name: 's', path: '$."s"', type: 'VARCHAR' },
      ]
    );

    // Assess
    expect(casts).toEqual([{ name: 'n', type: 'DOUBLE' }]);
  });
});

describe('Function: conformFiles', () => {
  it('rewrites widened columns in the table type, keeping every value and its kind', async () => {
    // Prepare
    const key = 'silver/conform/year=2024/part-a-0.parquet';
    await part(key, "select 1 as id, 7::bigint as n, 'x' as s, [1, 2] as l, 'keep' as other");

    // Act
    const rewritten = await conformFiles({ store: lake.store, engine }, [
      {
        key,
        casts: [
          { name: 'n', type: 'DOUBLE' },
          { name: 's', type: 'JSON' },
          { name: 'l', type: 'JSON' },
        ],
      },
    ]);
    const again = await conformFiles({ store: lake.store, engine }, [
      { key, casts: [{ name: 'n', type: 'DOUBLE' }] },
    ]);

    // Assess
    expect(rewritten).toBe(1);
    expect(again).toBe(0);
    expect(await readBack(key)).toEqual({
      types: { id: 'INTEGER', n: 'DOUBLE', s: 'JSON', l: 'JSON', other: 'VARCHAR' },
      rows: [{ id: '1', n: '7', s: '"x"', l: '[1,2]', other: 'keep' }],
    });
  });

  it('fails on a value the table type cannot hold, leaving the file as it was', async () => {
    // Prepare
    const key = 'silver/conform/part-b-0.parquet';
    await part(key, 'select 1 as id, 18446744073709551615::ubigint as n');

    // Act
    const failure = await conformFiles({ store: lake.store, engine }, [
      { key, casts: [{ name: 'n', type: 'BIGINT' }] },
    ]).catch((error: unknown) => error);

    // Assess
    expect(String(failure)).toMatch(/part-b-0.parquet cannot be rewritten with n as BIGINT/);
    expect((failure as Error).name).toBe('Strata.BadInput');
    expect((await readBack(key)).types.n).toBe('UBIGINT');
  });
});
