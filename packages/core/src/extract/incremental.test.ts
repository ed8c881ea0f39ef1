import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbWarehouse } from '../adapters/index.js';
import { configSchema, parseOrThrow, quoteLiteral, type StrataConfig } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { ErrorName } from '../errors/index.js';
import type { Warehouse, WatermarkState, WatermarkStore } from '../ports/index.js';
import { runExtract } from './runExtract.js';

let lake: LocalLake;
let warehousePath: string;
let entity: string;
let counter = 0;

/** The source table: one row per (ID, version), UPDATED_AT moving forward on each change. */
const source = async (sql: string) =>
  DuckDbEngine.use({ path: warehousePath }, (engine) => engine.run(sql));

/** Whether the suite extracts through the warehouse's unload (Parquet) or by streaming rows. */
let unload = false;

const configFor = (overrides: Record<string, unknown> = {}, query: Record<string, unknown> = {}) =>
  parseOrThrow(
    configSchema,
    {
      warehouse: { type: 'duckdb', path: warehousePath, database: 'src' },
      batch_size: 2,
      ...overrides,
      queries: [
        {
          name: entity,
          sql: `select * from src.${entity}`,
          primary_key: ['ID'],
          watermark_column: 'UPDATED_AT',
          unload,
          ...query,
        },
      ],
    },
    'config'
  );

const extract = async (
  runId: string,
  config: StrataConfig,
  watermarks: WatermarkStore = lake.watermarks,
  leaseSeconds?: number
) => {
  const warehouse = new DuckDbWarehouse({ path: warehousePath, database: 'src' });
  try {
    return await DuckDbEngine.use({}, (engine) =>
      runExtract(
        { entity, runId, runDate: '2026-06-01', runStartedAt: '2026-06-01T00:00:00Z' },
        { store: lake.store, warehouse, engine, config, watermarks, leaseSeconds }
      )
    );
  } finally {
    await warehouse.close();
  }
};

/** Every row in the entity's bronze parts, as `id@updated_at=val`, sorted. */
const bronzeVersions = async (): Promise<string[]> => {
  const keys = (await keysUnder(lake.store, `bronze/${entity}/`)).filter((key) =>
    key.endsWith('.parquet')
  );
  if (keys.length === 0) return [];
  const files: string[] = [];
  for (const key of keys) {
    const local = join(lake.dir, `read-${counter++}.parquet`);
    await lake.store.download(key, local);
    files.push(quoteLiteral(local));
  }
  const rows = await DuckDbEngine.use({}, (engine) =>
    engine.all(
      `select ID || '@' || strftime(UPDATED_AT, '%H:%M') || '=' || VAL as version
       from read_parquet([${files.join(', ')}]) order by ID, UPDATED_AT`
    )
  );
  return rows.map((row) => String(row.version));
};

/** A watermark store that fails the commit (the write that clears the claim) once. */
const failingCommitOnce = (inner: WatermarkStore): WatermarkStore => {
  let failed = false;
  return {
    get: (query) => inner.get(query),
    put: async (state: WatermarkState, expected: number) => {
      if (!failed && state.pending === undefined) {
        failed = true;
        throw new Error('injected: lost the connection before the watermark commit');
      }
      return inner.put(state, expected);
    },
  };
};

beforeAll(async () => {
  lake = await startLocalLake();
  warehousePath = join(lake.dir, 'src.duckdb');
});

beforeEach(async () => {
  // A fresh table (and so a fresh watermark and bronze prefix) for every test.
  entity = `events_${++counter}`;
  await source(`
    create table ${entity} (ID bigint, VAL varchar, UPDATED_AT timestamp);
    insert into ${entity} values
      (1, 'a', '2026-05-01 01:00'), (2, 'b', '2026-05-01 01:00'), (3, 'c', '2026-05-01 02:00'),
      (4, 'd', '2026-05-01 03:00'), (5, 'e', '2026-05-01 03:00');
  `);
});

afterAll(async () => {
  await lake?.stop();
});

describe.each([
  ['streamed rows', false],
  ['unloaded Parquet', true],
])('Function: runExtract (incremental, %s)', (_path, viaUnload) => {
  beforeEach(() => {
    unload = viaUnload;
  });

  it('reads every row exactly once per version across runs, ties and batch boundaries', async () => {
    // Prepare: run 1 ends on two rows sharing 03:00, split across batches of 2
    const config = configFor();
    const first = await extract('inc-1', config);
    await source(`
      insert into ${entity} values (6, 'f', '2026-05-01 03:00');  -- late row at the watermark
      update ${entity} set VAL = 'b2', UPDATED_AT = '2026-05-01 04:00' where ID = 2;
      insert into ${entity} values (7, 'g', '2026-05-01 05:00');
    `);

    // Act
    const second = await extract('inc-2', config);

    // Assess
    expect([first.rows, second.rows]).toEqual([5, 3]);
    expect(await bronzeVersions()).toEqual([
      '1@01:00=a',
      '2@01:00=b',
      '2@04:00=b2',
      '3@02:00=c',
      '4@03:00=d',
      '5@03:00=e',
      '6@03:00=f',
      '7@05:00=g',
    ]);
    expect(await lake.watermarks.get(entity)).toMatchObject({
      value: '2026-05-01 05:00:00',
      tieKeys: ['["7"]'],
      committedRunId: 'inc-2',
    });
  });

  it('resumes where max_batches stopped, inside a run of equal watermarks', async () => {
    // Prepare: DuckDB unloads at least 2,048 rows per file, so only streaming makes 2-row batches
    const config = configFor({ max_batches: 1 }, { unload: false });
    await source(`insert into ${entity} values (8, 'h', '2026-05-01 03:00')`);

    // Act
    const rows: number[] = [];
    for (let run = 1; run <= 5; run++) rows.push((await extract(`cap-${run}`, config)).rows);

    // Assess: skipped tie rows leave some warehouse batches short, never a row behind
    expect(rows).toEqual([2, 2, 1, 1, 0]);
    expect(await bronzeVersions()).toEqual([
      '1@01:00=a',
      '2@01:00=b',
      '3@02:00=c',
      '4@03:00=d',
      '5@03:00=e',
      '8@03:00=h',
    ]);
  });

  it('re-reads the lookback window on purpose, for downstream dedupe', async () => {
    // Prepare
    const config = configFor({}, { lookback: 3600 });
    await extract('look-1', config);

    // Act
    const second = await extract('look-2', config);

    // Assess: 02:00 and 03:00 are within an hour of the 03:00 watermark
    expect(second.rows).toBe(3);
  });

  it('loses and duplicates nothing when the watermark commit fails and the run is retried', async () => {
    // Prepare
    const config = configFor();
    await extract('fault-0', configFor({}, { mode: 'full_refresh' }));
    await lake.store.delete(await keysUnder(lake.store, `bronze/${entity}/`));
    const flaky = failingCommitOnce(lake.watermarks);
    await expect(extract('fault-1', config, flaky)).rejects.toThrow(/injected/);
    await source(`insert into ${entity} values (9, 'i', '2026-05-01 06:00')`);

    // Act
    const retried = await extract('fault-1', config, flaky);

    // Assess
    expect(retried.rows).toBe(6);
    expect(await bronzeVersions()).toEqual([
      '1@01:00=a',
      '2@01:00=b',
      '3@02:00=c',
      '4@03:00=d',
      '5@03:00=e',
      '9@06:00=i',
    ]);
    expect(await lake.watermarks.get(entity)).toMatchObject({
      value: '2026-05-01 06:00:00',
      committedRunId: 'fault-1',
    });
  });

  it('takes over an expired claim and deletes the dead run’s uncommitted parts', async () => {
    // Prepare
    const config = configFor();
    await expect(extract('dead-1', config, failingCommitOnce(lake.watermarks))).rejects.toThrow(
      /injected/
    );

    // Act
    const next = await extract('dead-2', config, lake.watermarks, 0);

    // Assess
    expect(next.rows).toBe(5);
    const keys = await keysUnder(lake.store, `bronze/${entity}/`);
    expect(keys.filter((key) => key.includes('dead-1'))).toEqual([]);
    expect(await bronzeVersions()).toHaveLength(5);
  });

  it('refuses to run beside a live claim of another run', async () => {
    // Prepare
    const config = configFor();
    await expect(extract('live-1', config, failingCommitOnce(lake.watermarks))).rejects.toThrow(
      /injected/
    );

    // Act
    const attempt = extract('live-2', config);

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.Transient,
      message: expect.stringMatching(/run live-1 has been extracting/),
    });
  });

  it('returns the committed manifest when a committed run is replayed', async () => {
    // Prepare
    const config = configFor();
    const first = await extract('replay-1', config);
    await source(`insert into ${entity} values (10, 'j', '2026-05-01 07:00')`);

    // Act
    const replay = await extract('replay-1', config);

    // Assess
    expect(replay).toEqual(first);
    expect(await bronzeVersions()).toHaveLength(5);
  });

  it('takes the highest watermark of an unload whose files arrive in no particular order', async () => {
    // Prepare: 5,000 rows so DuckDB writes several files; the adapter hands them back reversed
    await source(`
      insert into ${entity}
      select 100 + i, 'bulk', timestamp '2026-05-02 00:00' + to_minutes(i) from range(5000) t(i)
    `);
    const real = new DuckDbWarehouse({ path: warehousePath, database: 'src' });
    const reversed: Warehouse = {
      query: (sql, options) => real.query(sql, options),
      unload: async (sql, options) => ((await real.unload(sql, options)) ?? []).reverse(),
      close: () => real.close(),
    };
    const config = configFor({ batch_size: 2048 }, { unload: true });

    // Act
    const result = await DuckDbEngine.use({}, (engine) =>
      runExtract(
        { entity, runId: 'shuffled', runDate: '2026-06-01', runStartedAt: '2026-06-01T00:00:00Z' },
        { store: lake.store, warehouse: reversed, engine, config, watermarks: lake.watermarks }
      )
    );
    await real.close();

    // Assess
    expect(result.parts).toBeGreaterThan(1);
    expect(await lake.watermarks.get(entity)).toMatchObject({
      value: '2026-05-05 11:19:00',
      tieKeys: ['["5099"]'],
    });
  });
});
