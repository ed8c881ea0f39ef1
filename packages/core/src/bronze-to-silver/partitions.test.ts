import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbWarehouse } from '../adapters/index.js';
import { configSchema, parseOrThrow, quoteLiteral } from '../config/index.js';
import { DuckDbEngine, Workspace } from '../engine/index.js';
import { runExtract } from '../extract/index.js';
import { readSilverManifest, type SilverManifest, viewSilverTable } from '../lake/index.js';
import type { CatalogTable, TableDefinition } from '../ports/index.js';
import { runBronzeToSilver } from './runBronzeToSilver.js';

let lake: LocalLake;
let warehousePath: string;

/** Events extracted incrementally by their version, silver partitioned by the month of DAY. */
const config = (by: 'month' | 'day' = 'month') =>
  parseOrThrow(
    configSchema,
    {
      warehouse: { type: 'duckdb', path: warehousePath, database: 'src' },
      queries: [
        {
          name: 'events',
          sql: 'select * from src.events',
          primary_key: ['ID'],
          watermark_column: 'VERSION',
          silver_partition: { column: 'DAY', by },
        },
      ],
    },
    'config'
  );

const source = (sql: string) =>
  DuckDbEngine.use({ path: warehousePath }, (engine) => engine.run(sql));

/** Extracts and upserts run `runId`, recording what it registers in the catalog. */
const upsert = async (runId: string, day: string, by: 'month' | 'day' = 'month') => {
  const warehouse = new DuckDbWarehouse({ path: warehousePath, database: 'src' });
  const registered: TableDefinition[] = [];
  const catalog = {
    upsertTable: async (definition: TableDefinition): Promise<CatalogTable> => {
      registered.push(definition);
      return { name: definition.table, change: 'updated', columns: [], partitionColumns: [] };
    },
  };
  try {
    const result = await DuckDbEngine.use({}, async (engine) => {
      const extract = await runExtract(
        { entity: 'events', runId, runDate: day, runStartedAt: `${day}T06:00:00Z` },
        { store: lake.store, warehouse, engine, config: config(by), watermarks: lake.watermarks }
      );
      return runBronzeToSilver(
        { runId, extracts: [extract] },
        { store: lake.store, engine, config: config(by), catalog }
      );
    });
    return { dataset: result.datasets[0], registered };
  } finally {
    await warehouse.close();
  }
};

const manifest = async (): Promise<SilverManifest> => {
  const read = await readSilverManifest(lake.store, 'events');
  if (!read) throw new Error('no events manifest');
  return read;
};

/** Each file's partition and the run that wrote it (its name's part-<run>-). */
const layout = async () =>
  (await manifest()).files.map((file) => [file.partition, /part-(p\d)-/.exec(file.key)?.[1]]);

const rows = () =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('test', async (ws) => {
      await viewSilverTable({ store: lake.store, engine, ws }, 'events', 'events');
      return engine.all(
        `select id, strftime(day, '%Y-%m-%d') as day, amount::varchar as amount from events order by id`
      );
    })
  );

/** The type of `column` in every file of the table, read from the files themselves. */
const typesInFiles = (column: string) =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('test', async (ws) => {
      const types: string[] = [];
      for (const file of (await manifest()).files) {
        const local = ws.path(`${types.length}.parquet`);
        await lake.store.download(file.key, local);
        const [row] = await engine.all(
          `select column_type from (describe select * from read_parquet(${quoteLiteral(local)})) where column_name = ${quoteLiteral(column)}`
        );
        types.push(String(row?.column_type));
      }
      return types;
    })
  );

beforeAll(async () => {
  lake = await startLocalLake();
  warehousePath = join(lake.dir, 'events.duckdb');
  await source(`
    create table events (ID bigint, DAY date, AMOUNT bigint, VERSION bigint);
    insert into events values
      (1, date '2026-01-05', 10, 1), (2, date '2026-01-20', 20, 1),
      (3, date '2026-02-03', 30, 1), (4, date '2026-02-14', 40, 1),
      (5, date '2026-03-01', 50, 1), (6, date '2026-03-09', 60, 1);
  `);
});

afterAll(async () => {
  await lake?.stop();
});

describe('partitioned silver', () => {
  it('rewrites only the partitions a run touches, follows a row that moves, and rewrites every file when a column widens or the partitioning changes', async () => {
    // Act: the first run writes one file per month
    const first = await upsert('p1', '2026-03-10');

    // Assess
    expect(await layout()).toEqual([
      ['2026-01', 'p1'],
      ['2026-02', 'p1'],
      ['2026-03', 'p1'],
    ]);
    expect(first.dataset).toMatchObject({ rowsIn: 6, rowsOut: 6 });
    expect(first.dataset?.bytesWritten).toBe(first.dataset?.bytesTotal);
    expect(first.registered.map((t) => [t.table, t.partitionKeys])).toEqual([
      ['events', [{ key: 'day_month', values: ['2026-01', '2026-02', '2026-03'] }]],
    ]);

    // Act: a new March event, and event 2 moves from January to March
    await source(`
      insert into events values (7, date '2026-03-10', 70, 2);
      update events set DAY = date '2026-03-11', VERSION = 2 where ID = 2;
    `);
    const second = await upsert('p2', '2026-03-11');

    // Assess: March and January (which event 2 left) are rewritten, February is not
    expect(await layout()).toEqual([
      ['2026-01', 'p2'],
      ['2026-02', 'p1'],
      ['2026-03', 'p2'],
    ]);
    const files = (await manifest()).files;
    expect(second.dataset).toMatchObject({ rowsIn: 2, rowsOut: 7 });
    expect(second.dataset?.bytesWritten).toBe(
      files.filter((file) => file.key.includes('part-p2-')).reduce((sum, f) => sum + f.bytes, 0)
    );
    expect(second.dataset?.bytesTotal).toBe(files.reduce((sum, file) => sum + file.bytes, 0));
    expect(await rows()).toEqual([
      { id: '1', day: '2026-01-05', amount: '10' },
      { id: '2', day: '2026-03-11', amount: '20' },
      { id: '3', day: '2026-02-03', amount: '30' },
      { id: '4', day: '2026-02-14', amount: '40' },
      { id: '5', day: '2026-03-01', amount: '50' },
      { id: '6', day: '2026-03-09', amount: '60' },
      { id: '7', day: '2026-03-10', amount: '70' },
    ]);
    // The first run's March file is gone from the lake, not only from the manifest.
    const keys: string[] = [];
    for await (const object of lake.store.list('silver/events/')) keys.push(object.key);
    expect(keys.filter((key) => key.endsWith('.parquet')).sort()).toEqual(
      files.map((file) => file.key).sort()
    );

    // Act: AMOUNT widens to DOUBLE with one new March event
    await source(`
      alter table events alter AMOUNT type double;
      insert into events values (8, date '2026-03-12', 80.5, 3);
    `);
    const third = await upsert('p3', '2026-03-12');

    // Assess: every file is rewritten, so every file holds AMOUNT as the table's DOUBLE
    expect(await layout()).toEqual([
      ['2026-01', 'p3'],
      ['2026-02', 'p3'],
      ['2026-03', 'p3'],
    ]);
    expect(await typesInFiles('amount')).toEqual(['DOUBLE', 'DOUBLE', 'DOUBLE']);
    expect(third.registered[0]?.columns.find((c) => c.name === 'amount')?.type).toBe('DOUBLE');
    expect(third.dataset).toMatchObject({ rowsIn: 1, rowsOut: 8 });

    // Act: rerunning the last run on the same input
    const before = await rows();
    const again = await upsert('p3', '2026-03-12');

    // Assess: the same rows, in the same files
    expect(await rows()).toEqual(before);
    expect(await layout()).toEqual([
      ['2026-01', 'p3'],
      ['2026-02', 'p3'],
      ['2026-03', 'p3'],
    ]);
    expect(again.dataset).toMatchObject({ rowsIn: 1, rowsOut: 8 });

    // Act: the table is partitioned by day from now on
    await source(`insert into events values (9, date '2026-03-12', 90, 4);`);
    const byDay = await upsert('p5', '2026-03-13', 'day');

    // Assess: every file is rewritten in the new layout, each event once
    expect((await layout()).map(([partition, run]) => `${partition} ${run}`)).toEqual([
      '2026-01-05 p5',
      '2026-02-03 p5',
      '2026-02-14 p5',
      '2026-03-01 p5',
      '2026-03-09 p5',
      '2026-03-10 p5',
      '2026-03-11 p5',
      '2026-03-12 p5',
    ]);
    expect((await rows()).map((row) => row.id)).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    expect(byDay.dataset).toMatchObject({ rowsIn: 1, rowsOut: 9 });
  });
});
