import { DuckDbEngine, Workspace } from '@strata/core/engine';
import { conformFiles } from '@strata/core/reconcile';
import { lambdaContext } from '@strata/local/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineOptions } from '../functions/_shared/engine.js';
import { type LocalLake, startLocalLake } from './support/localLake.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Reconcile on a wide feed', () => {
  it('rewrites a widened column in a part as wide as FlattenBatch writes, within its own memory', async () => {
    // Prepare: 832 package.json files flattened to 1,493 columns; one batch typed `main` as
    // text where another saw an object, so Reconcile rewrites its part with `main` as JSON.
    // DuckDB's Parquet writer holds buffers for every column: at 1,024 MB (DuckDB 585 MiB) the
    // rewrite ran out of memory.
    const columns = Array.from(
      { length: 1500 },
      (_, i) => `case when id % ${(i % 40) + 2} = 0 then 'v${i}-' || id end as c${i}`
    );
    const key = 'silver/pkgs/part-wide-0.parquet';
    await DuckDbEngine.use({}, (engine) =>
      Workspace.use('reconcile-wide', async (ws) => {
        const file = ws.path('part.parquet');
        await engine.run(
          `copy (select id, 'index.js' as main, ${columns.join(', ')} from range(400) t(id)) to '${file}' (format parquet, compression zstd)`
        );
        await lake.store.upload(key, file);
      })
    );

    // Act
    const rewritten = await DuckDbEngine.use(engineOptions(lambdaContext('Reconcile')), (engine) =>
      conformFiles({ store: lake.store, engine }, [
        { key, casts: [{ name: 'main', type: 'JSON' }] },
      ])
    );

    // Assess
    expect(rewritten).toBe(1);
    const back = await DuckDbEngine.use({}, (engine) =>
      Workspace.use('reconcile-wide', async (ws) => {
        const file = ws.path('back.parquet');
        await lake.store.download(key, file);
        return engine.all(
          `select count(*) as n_rows, count(distinct main) as mains, any_value(typeof(main)) as type, (select count(*) from (describe select * from '${file}')) as n_columns from '${file}'`
        );
      })
    );
    expect(back).toEqual([{ n_rows: '400', mains: '1', type: 'JSON', n_columns: '1502' }]);
  });
});
