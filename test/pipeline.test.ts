import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbEngine } from '@strata/core/engine';
import { EmbeddedRuntime } from '@strata/local/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder, snapshot } from './support/lake.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let dir: string;
let runtime: EmbeddedRuntime;

/** Row counts straight from the seeded warehouse, the ground truth the lake must match. */
const warehouseCounts = async (): Promise<Record<string, number>> => {
  const engine = await DuckDbEngine.create();
  try {
    await engine.run(`attach '${runtime.warehousePath}' as wh (read_only)`);
    const counts: Record<string, number> = {};
    for (const table of ['region', 'nation', 'customer', 'part', 'orders', 'lineitem']) {
      counts[table] = await engine.scalarNumber(`select count(*) from wh.tpch_sf1.${table}`);
    }
    return counts;
  } finally {
    engine.close();
  }
};

const rowsBy = (rows: { layer: string; dataset: string; rows: number }[], layer: string) =>
  Object.fromEntries(
    rows.filter((row) => row.layer === layer).map((row) => [row.dataset, row.rows])
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-pipeline-test-'));
  runtime = await EmbeddedRuntime.start({ dir, scale: 0.005 });
});

afterEach(async () => {
  await runtime.putConfig(await runtime.defaultConfig());
});

afterAll(async () => {
  await runtime?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('pipeline state machine (embedded runtime)', () => {
  it('moves every warehouse row through bronze, silver, gold and features', async () => {
    // Prepare
    const expected = await warehouseCounts();

    // Act
    const outcome = await runtime.execute('pipeline', { executionName: 'e2e-full' });

    // Assess
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    const run = (outcome as { output: { run: { runStartedAt: string } } }).output.run;
    const { summarizeRun } = await import('@strata/local/runtime');
    const summary = await summarizeRun(runtime.store, {
      runId: 'e2e-full',
      runStartedAt: run.runStartedAt,
      featureGroup: 'strata-customer-features',
    });
    expect(rowsBy(summary, 'bronze')).toEqual(expected);
    expect(rowsBy(summary, 'silver')).toEqual(expected);
    expect(rowsBy(summary, 'gold').ml_features).toBe(expected.customer);
    expect(rowsBy(summary, 'gold').sales_summary).toBeGreaterThan(0);
    expect(rowsBy(summary, 'features')).toEqual({
      'strata-customer-features': expected.customer,
    });
    expect(rowsBy(summary, 'quarantine')).toEqual({});
    expect(runtime.deadLetters).toEqual([]);
  });

  it('rewrites the same objects when an execution is redriven', async () => {
    // Prepare
    const startTime = '2026-01-02T03:04:05.000Z';
    await runtime.execute('pipeline', { executionName: 'e2e-rerun', startTime });
    const before = {
      bronze: await snapshot(runtime.store, 'bronze/'),
      silver: await snapshot(runtime.store, 'silver/'),
      gold: await snapshot(runtime.store, 'gold/'),
    };

    // Act
    const outcome = await runtime.execute('pipeline', { executionName: 'e2e-rerun', startTime });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(await snapshot(runtime.store, 'bronze/')).toEqual(before.bronze);
    expect(await snapshot(runtime.store, 'silver/')).toEqual(before.silver);
    expect(await snapshot(runtime.store, 'gold/')).toEqual(before.gold);
  });

  it('quarantines rows without a primary key and reconciles the counts', async () => {
    // Prepare
    const config = await runtime.defaultConfig();
    const queries = config.queries as { name: string; sql: string }[];
    const customer = queries.find((query) => query.name === 'customer');
    if (!customer) throw new Error('default config has no customer query');
    customer.sql =
      'select * replace (case when C_CUSTKEY % 50 = 0 then null else C_CUSTKEY end as C_CUSTKEY) from snowflake_sample_data.tpch_sf1.customer';
    await runtime.putConfig(config);
    const customers = (await warehouseCounts()).customer ?? 0;
    const nullKeys = Math.floor(customers / 50);

    // Act
    const outcome = await runtime.execute('pipeline', {
      executionName: 'e2e-quarantine',
      input: { entities: ['customer'] },
    });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const silver = (outcome as { output: { silver: { datasets: Record<string, number>[] } } })
      .output.silver.datasets[0];
    expect(silver).toMatchObject({
      rowsIn: customers,
      rowsAccepted: customers - nullKeys,
      rowsQuarantined: nullKeys,
    });
    expect(await keysUnder(runtime.store, 'quarantine/customer/')).toEqual([
      'quarantine/customer/run=e2e-quarantine/rejected.parquet',
    ]);
  });
});
