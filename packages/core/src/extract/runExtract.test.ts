import { join } from 'node:path';
import { seedTpch } from '@strata/local/warehouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DuckDbWarehouse } from '../adapters/index.js';
import { configSchema, parseOrThrow, quoteLiteral, type StrataConfig } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { ErrorName } from '../errors/index.js';
import type { BronzeManifest } from './runExtract.js';
import { runExtract } from './runExtract.js';

let lake: LocalLake;
let warehousePath: string;
let customers: number;

const configWith = (batchSize: number, extra: Record<string, unknown> = {}): StrataConfig =>
  parseOrThrow(
    configSchema,
    {
      source_system: 'test',
      warehouse: { type: 'duckdb', path: warehousePath },
      batch_size: batchSize,
      queries: [
        {
          name: 'customer',
          sql: 'select * from snowflake_sample_data.tpch_sf1.customer order by C_CUSTKEY',
          primary_key: ['C_CUSTKEY'],
        },
        {
          name: 'orders',
          sql: "select * from snowflake_sample_data.tpch_sf1.orders where O_ORDERDATE < date '1992-03-01'",
          primary_key: ['O_ORDERKEY'],
          partition_by: 'O_ORDERDATE',
        },
      ],
      ...extra,
    },
    'config'
  );

const extract = async (
  runId: string,
  batchSize: number,
  entity = 'customer',
  extra: Record<string, unknown> = {}
) => {
  const config = configWith(batchSize, extra);
  const warehouse = new DuckDbWarehouse({ path: warehousePath, database: 'snowflake_sample_data' });
  const engine = await DuckDbEngine.create();
  try {
    return await runExtract(
      { entity, runId, runDate: '2026-03-04', runStartedAt: '2026-03-04T05:06:07Z' },
      { store: lake.store, warehouse, engine, config, watermarks: lake.watermarks }
    );
  } finally {
    engine.close();
    await warehouse.close();
  }
};

const partition = 'bronze/customer/year=2026/month=03/day=04/';

beforeAll(async () => {
  lake = await startLocalLake();
  warehousePath = join(lake.dir, 'warehouse.duckdb');
  customers = (await seedTpch({ path: warehousePath, scale: 0.005 })).tables.customer ?? 0;
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: runExtract', () => {
  it('writes batch_size-row parts with lineage columns and a manifest of exactly those parts', async () => {
    // Act
    const result = await extract('run-a', 300);

    // Assess
    expect(result).toEqual({
      entity: 'customer',
      rows: customers,
      parts: Math.ceil(customers / 300),
      manifestKey: 'bronze/customer/_manifests/run-a.json',
    });
    const body = await lake.store.get(result.manifestKey);
    const manifest = JSON.parse(new TextDecoder().decode(body)) as BronzeManifest;
    expect(manifest.parts.map((part) => part.rows)).toEqual([300, 300, customers - 600]);
    expect(manifest.extractedAt).toBe('2026-03-04T05:06:07.000Z');
    const engine = await DuckDbEngine.create();
    try {
      const local = join(lake.dir, 'part-1.parquet');
      await lake.store.download(manifest.parts[1]?.key ?? '', local);
      const [row] = await engine.all(
        `select min(C_CUSTKEY) as first_key, count(*) as n, any_value(_execution_id) as run,
                any_value(_batch) as batch, any_value(_source_system) as source,
                any_value(_source_query_sha256) as sha
         from read_parquet(${quoteLiteral(local)})`
      );
      expect(row).toEqual({
        first_key: '301',
        n: '300',
        run: 'run-a',
        batch: 1,
        source: 'test',
        sha: manifest.sourceQuerySha256,
      });
    } finally {
      engine.close();
    }
  });

  it('removes parts a previous attempt left beyond the last one, and only its own', async () => {
    // Prepare: another run whose id starts with this run's id shares the key prefix
    await extract('run-b-2', 300);
    await extract('run-b', 300);

    // Act: the retry writes fewer, larger parts
    const retry = await extract('run-b', 10_000);

    // Assess
    expect(retry.parts).toBe(1);
    const keys = await keysUnder(lake.store, partition);
    expect(keys.filter((key) => key.includes('part-run-b-0'))).toEqual([
      `${partition}part-run-b-00000.parquet`,
    ]);
    expect(keys.filter((key) => key.includes('part-run-b-2-'))).toHaveLength(3);
  });

  it('fails with BadInput naming an unknown entity', async () => {
    // Prepare
    const config = configWith(100);
    const warehouse = new DuckDbWarehouse({
      path: warehousePath,
      database: 'snowflake_sample_data',
    });
    const engine = await DuckDbEngine.create();

    // Act
    const attempt = runExtract(
      {
        entity: 'lineitem',
        runId: 'run-c',
        runDate: '2026-03-04',
        runStartedAt: '2026-03-04T05:06:07Z',
      },
      { store: lake.store, warehouse, engine, config, watermarks: lake.watermarks }
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.BadInput,
      message: 'extract: unknown entity "lineitem" (configured: customer, orders)',
    });
    engine.close();
  });

  it('writes each row into its own date partition with partition_by', async () => {
    // Act
    const result = await extract('run-p', 10_000, 'orders');

    // Assess
    const body = await lake.store.get(result.manifestKey);
    const manifest = JSON.parse(new TextDecoder().decode(body)) as BronzeManifest;
    const days = await DuckDbEngine.use({}, async (engine) => {
      await engine.run(`attach ${quoteLiteral(warehousePath)} as wh (read_only)`);
      return engine.scalarNumber(
        "select count(distinct O_ORDERDATE) from wh.tpch_sf1.orders where O_ORDERDATE < date '1992-03-01'"
      );
    });
    expect(manifest.parts).toHaveLength(days);
    expect(days).toBeGreaterThan(50);
    expect(
      manifest.parts.every((part) =>
        /year=1992\/month=0[12]\/day=\d\d\/part-run-p-00000\.parquet$/.test(part.key)
      )
    ).toBe(true);
    expect(manifest.parts.reduce((sum, part) => sum + part.rows, 0)).toBe(result.rows);
    expect(
      manifest.parts.every((part) => /^[0-9a-f]{64}$/.test(part.sha256) && part.bytes > 0)
    ).toBe(true);
  });

  it('writes newline-delimited JSON parts when output_format is json', async () => {
    // Act
    const result = await extract('run-j', 1_000, 'customer', { output_format: 'json' });

    // Assess
    const keys = await keysUnder(lake.store, partition);
    const jsonParts = keys.filter((key) => key.includes('part-run-j-'));
    expect(jsonParts).toEqual([`${partition}part-run-j-00000.json`]);
    const local = join(lake.dir, 'part-j.json');
    await lake.store.download(jsonParts[0] ?? '', local);
    const count = await DuckDbEngine.use({}, (engine) =>
      engine.scalarNumber(
        `select count(*) from read_json(${quoteLiteral(local)}, format = 'newline_delimited') where _execution_id = 'run-j'`
      )
    );
    expect(count).toBe(result.rows);
  });
});
