import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbWarehouse } from '../adapters/index.js';
import { configSchema, parseOrThrow, quoteLiteral, type StrataConfig } from '../config/index.js';
import { DuckDbEngine, Workspace } from '../engine/index.js';
import { ErrorName } from '../errors/index.js';
import { runExtract } from '../extract/index.js';
import { viewSilverTable } from '../lake/index.js';
import { runBronzeToSilver } from './runBronzeToSilver.js';

let lake: LocalLake;
let warehousePath: string;

const configFor = (sql: string, primaryKey = ['ITEM_ID']): StrataConfig =>
  parseOrThrow(
    configSchema,
    {
      warehouse: { type: 'duckdb', path: warehousePath, database: 'src' },
      queries: [{ name: 'items', sql, primary_key: primaryKey }],
    },
    'config'
  );

/** Extracts `sql` as run `runId`, then runs bronze-to-silver for it. */
const extractAndUpsert = async (runId: string, startedAt: string, config: StrataConfig) => {
  const warehouse = new DuckDbWarehouse({ path: warehousePath, database: 'src' });
  const engine = await DuckDbEngine.create();
  try {
    const extract = await runExtract(
      { entity: 'items', runId, runDate: startedAt.slice(0, 10), runStartedAt: startedAt },
      { store: lake.store, warehouse, engine, config, watermarks: lake.watermarks }
    );
    return await runBronzeToSilver(
      { runId, extracts: [extract] },
      { store: lake.store, engine, config }
    );
  } finally {
    engine.close();
    await warehouse.close();
  }
};

const silverRows = () =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('test', async (ws) => {
      expect(await viewSilverTable({ store: lake.store, engine, ws }, 'items', 'items')).toBe(true);
      return engine.all(
        'select item_id, name, _execution_id, _deleted_at is not null as deleted from items order by item_id'
      );
    })
  );

beforeAll(async () => {
  lake = await startLocalLake();
  warehousePath = join(lake.dir, 'src.duckdb');
  const engine = await DuckDbEngine.create({ path: warehousePath });
  await engine.run(`
    create table v1 (ITEM_ID bigint, NAME varchar);
    insert into v1 values (1, 'one'), (2, 'two'), (3, 'three');
    create table v2 (ITEM_ID bigint, NAME varchar);
    insert into v2 values (2, 'two, renamed'), (4, 'four'), (4, 'four'), (null, 'orphan');
  `);
  engine.close();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: runBronzeToSilver', () => {
  it('upserts each run on the primary key, keeping the latest extract, and soft-deletes what a full refresh lacks', async () => {
    // Prepare
    await extractAndUpsert('run-1', '2026-05-01T00:00:00Z', configFor('select * from src.v1'));

    // Act
    const result = await extractAndUpsert(
      'run-2',
      '2026-05-02T00:00:00Z',
      configFor('select * from src.v2')
    );

    // Assess
    expect(result.datasets).toEqual([
      {
        entity: 'items',
        key: 'silver/items/_manifest.json',
        rowsIn: 4,
        rowsAccepted: 3,
        rowsQuarantined: 1,
        rowsOut: 4,
        rowsDeleted: 2,
        bytesWritten: expect.any(Number),
        bytesTotal: expect.any(Number),
      },
    ]);
    expect(await silverRows()).toEqual([
      { item_id: '1', name: 'one', _execution_id: 'run-1', deleted: true },
      { item_id: '2', name: 'two, renamed', _execution_id: 'run-2', deleted: false },
      { item_id: '3', name: 'three', _execution_id: 'run-1', deleted: true },
      { item_id: '4', name: 'four', _execution_id: 'run-2', deleted: false },
    ]);
  });

  it('lets an older snapshot, as a redriven earlier run brings, delete or overwrite nothing newer', async () => {
    // Prepare: silver holds run-2's snapshot (2026-05-02) and run-1's deletes
    const before = await silverRows();

    // Act: a run started the day before run-1 extracts v1 again
    const result = await extractAndUpsert(
      'run-0',
      '2026-04-30T00:00:00Z',
      configFor('select * from src.v1')
    );

    // Assess
    expect(result.datasets[0]).toMatchObject({ rowsOut: 4, rowsDeleted: 2 });
    expect(await silverRows()).toEqual(before);
  });

  it('quarantines null keys with the reason, and a clean retry removes them', async () => {
    // Prepare
    const quarantineKey = 'quarantine/items/run=run-3/rejected.parquet';
    await extractAndUpsert('run-3', '2026-05-03T00:00:00Z', configFor('select * from src.v2'));
    const engine = await DuckDbEngine.create();
    const local = join(lake.dir, 'rejected.parquet');
    await lake.store.download(quarantineKey, local);
    const rejected = await engine.all(
      `select name, _quarantine_reason from read_parquet(${quoteLiteral(local)})`
    );
    engine.close();

    // Act
    await extractAndUpsert(
      'run-3',
      '2026-05-03T00:00:00Z',
      configFor('select * from src.v2 where ITEM_ID is not null')
    );

    // Assess
    expect(rejected).toEqual([
      { name: 'orphan', _quarantine_reason: 'primary key (ITEM_ID) is null' },
    ]);
    expect(await keysUnder(lake.store, 'quarantine/items/run=run-3/')).toEqual([]);
  });

  it('names a configured primary key column the extract did not return', async () => {
    // Act
    const attempt = extractAndUpsert(
      'run-4',
      '2026-05-04T00:00:00Z',
      configFor('select NAME from src.v1', ['ITEM_ID'])
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.BadInput,
      message:
        'bronze-to-silver items: primary key column(s) ITEM_ID not among the extracted columns (NAME)',
    });
  });

  it('succeeds when the extract returns no rows, and leaves silver as it was', async () => {
    // Prepare
    await extractAndUpsert('run-5', '2026-05-05T00:00:00Z', configFor('select * from src.v1'));
    const before = await silverRows();

    // Act
    const result = await extractAndUpsert(
      'run-6',
      '2026-05-06T00:00:00Z',
      configFor('select * from src.v1 where false')
    );

    // Assess
    expect(result.datasets).toEqual([
      {
        entity: 'items',
        key: 'silver/items/_manifest.json',
        rowsIn: 0,
        rowsAccepted: 0,
        rowsQuarantined: 0,
        rowsOut: before.length,
        // An empty snapshot deletes nothing: only item 4, which run-5's snapshot lacked, is deleted.
        rowsDeleted: before.filter((row) => row.deleted).length,
        bytesWritten: 0,
        bytesTotal: expect.any(Number),
      },
    ]);
    expect(await silverRows()).toEqual(before);
  });

  it('applies no entity when one of the run fails: every silver table stays as it was', async () => {
    // Prepare: items and a second entity whose primary key the extract does not return
    const two = parseOrThrow(
      configSchema,
      {
        warehouse: { type: 'duckdb', path: warehousePath, database: 'src' },
        queries: [
          { name: 'items', sql: 'select * from src.v2', primary_key: ['ITEM_ID'] },
          { name: 'names', sql: 'select NAME from src.v1', primary_key: ['ITEM_ID'] },
        ],
      },
      'config'
    );
    await extractAndUpsert('run-7', '2026-05-07T00:00:00Z', configFor('select * from src.v1'));
    const before = await silverRows();
    const warehouse = new DuckDbWarehouse({ path: warehousePath, database: 'src' });
    const engine = await DuckDbEngine.create();

    // Act
    const attempt = (async () => {
      try {
        const deps = { store: lake.store, warehouse, engine, config: two };
        const extracts = [];
        for (const entity of ['items', 'names']) {
          extracts.push(
            await runExtract(
              {
                entity,
                runId: 'run-8',
                runDate: '2026-05-08',
                runStartedAt: '2026-05-08T00:00:00Z',
              },
              { ...deps, watermarks: lake.watermarks }
            )
          );
        }
        return await runBronzeToSilver({ runId: 'run-8', extracts }, deps);
      } finally {
        engine.close();
        await warehouse.close();
      }
    })();

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: ErrorName.BadInput });
    expect(await silverRows()).toEqual(before);
    expect(await keysUnder(lake.store, 'quarantine/items/run=run-8/')).toEqual([]);
  });
});
