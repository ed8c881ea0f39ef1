import { join } from 'node:path';
import { DuckDbEngine } from '@strata/core/engine';
import { TransientError } from '@strata/core/errors';
import { summarizeRun } from '@strata/local/runtime';
import { describe, expect, it } from 'vitest';
import { keysUnder, snapshot } from './support/lake.js';
import { useEmbeddedRuntime } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.005);

/** Row counts straight from the seeded warehouse, the ground truth the lake must match. */
const warehouseCounts = async (): Promise<Record<string, number>> => {
  const engine = await DuckDbEngine.create();
  try {
    await engine.run(`attach '${suite.runtime.warehousePath}' as wh (read_only)`);
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

describe('pipeline state machine (embedded runtime)', () => {
  it('moves every warehouse row through bronze, silver, gold and features', async () => {
    // Prepare
    const expected = await warehouseCounts();

    // Act
    const outcome = await suite.runtime.execute('pipeline', { executionName: 'e2e-full' });

    // Assess
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    const { run, features } = (
      outcome as { output: { run: { runStartedAt: string }; features: unknown } }
    ).output;
    // Every customer is new to the feature store: sent, none unchanged.
    expect(features).toEqual({
      featureGroup: 'strata-customer-features',
      records: expected.customer,
      unchanged: 0,
      deleted: 0,
      deletionsHeld: 0,
      retried: 0,
      failed: 0,
    });
    const summary = await summarizeRun(suite.runtime.store, {
      runId: 'e2e-full',
      runStartedAt: run.runStartedAt,
      featureGroup: 'strata-customer-features',
    });
    expect(rowsBy(summary, 'bronze')).toEqual(expected);
    // The customers' history holds one version of each: none has changed yet.
    expect(rowsBy(summary, 'silver')).toEqual({ ...expected, dim_customers: expected.customer });
    expect(rowsBy(summary, 'gold').ml_features).toBe(expected.customer);
    expect(rowsBy(summary, 'gold').customer_analytics).toBe(expected.customer);
    expect(rowsBy(summary, 'gold').sales_summary).toBeGreaterThan(0);
    expect(rowsBy(summary, 'features')).toEqual({
      'strata-customer-features': expected.customer,
    });
    expect(rowsBy(summary, 'quarantine')).toEqual({});
    // Every silver table and gold model is in the catalog, typed as its file, under its layer.
    const catalog = await DuckDbEngine.use({}, async (engine) => {
      await engine.run(`attach '${join(suite.dir, 'catalog.duckdb')}' as lake (read_only)`);
      return engine.all(
        `select schema_name || '.' || table_name as name, count(*) as columns,
           max(data_type) filter (where column_name in ('o_orderdate', 'valid_from', 'net_revenue')) as typed
         from duckdb_columns()
         where database_name = 'lake' and schema_name in ('silver', 'gold') group by all order by name`
      );
    });
    expect(catalog).toEqual(
      expect.arrayContaining([
        { name: 'gold.customer_analytics', columns: '14', typed: null },
        { name: 'gold.sales_summary', columns: '8', typed: 'DECIMAL(18,4)' },
        { name: 'silver.dim_customers', columns: '20', typed: 'TIMESTAMP WITH TIME ZONE' },
        { name: 'silver.orders', columns: '17', typed: 'DATE' },
      ])
    );
    expect(catalog.map((table) => table.name)).toEqual([
      'gold.customer_analytics',
      'gold.ml_features',
      'gold.sales_summary',
      // Unpartitioned tables are merge-on-read: their files as <table>__files, the table a view.
      'silver.customer',
      'silver.customer__files',
      'silver.dim_customers',
      'silver.dim_customers__files',
      'silver.lineitem',
      'silver.nation',
      'silver.nation__files',
      'silver.orders',
      'silver.part',
      'silver.part__files',
      'silver.region',
      'silver.region__files',
    ]);
    expect(await suite.runtime.featureStore.onlineCount('strata-customer-features')).toBe(
      expected.customer
    );
    expect(suite.runtime.deadLetters).toEqual([]);
  });

  it('rewrites the same objects when an execution is redriven', async () => {
    // Prepare
    const startTime = '2026-01-02T03:04:05.000Z';
    await suite.runtime.execute('pipeline', { executionName: 'e2e-rerun', startTime });
    const before = {
      bronze: await snapshot(suite.runtime.store, 'bronze/'),
      silver: await snapshot(suite.runtime.store, 'silver/'),
      gold: await snapshot(suite.runtime.store, 'gold/'),
    };

    // Act
    const outcome = await suite.runtime.execute('pipeline', {
      executionName: 'e2e-rerun',
      startTime,
    });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(await snapshot(suite.runtime.store, 'bronze/')).toEqual(before.bronze);
    expect(await snapshot(suite.runtime.store, 'silver/')).toEqual(before.silver);
    expect(await snapshot(suite.runtime.store, 'gold/')).toEqual(before.gold);
  });

  it('sends only the customers whose features changed since the last run, one offline row each', async () => {
    // Prepare: three customers' orders cost one more than in the warehouse
    const config = await suite.runtime.defaultConfig();
    const orders = (config.queries as { name: string; sql: string }[]).find(
      (query) => query.name === 'orders'
    );
    if (!orders) throw new Error('default config has no orders query');
    // The whole table this run: an incremental extract would re-read only its lookback window.
    delete (orders as { watermark_column?: string }).watermark_column;
    delete (orders as { lookback?: number }).lookback;
    orders.sql =
      'select * replace (case when O_CUSTKEY in (1, 2, 4) then O_TOTALPRICE + 1 else O_TOTALPRICE end as O_TOTALPRICE) from snowflake_sample_data.tpch_sf1.orders';
    await suite.runtime.putConfig(config);
    const { customer } = await warehouseCounts();
    const before = (await suite.runtime.featureStore.onlineRecord(
      'strata-customer-features',
      '1'
    )) as { total_spent: number };

    // Act
    const outcome = await suite.runtime.execute('pipeline', { executionName: 'e2e-changed' });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const { run, features } = (
      outcome as { output: { run: { runStartedAt: string }; features: unknown } }
    ).output;
    expect(features).toEqual({
      featureGroup: 'strata-customer-features',
      records: 3,
      unchanged: (customer ?? 0) - 3,
      deleted: 0,
      deletionsHeld: 0,
      retried: 0,
      failed: 0,
    });
    const summary = await summarizeRun(suite.runtime.store, {
      runId: 'e2e-changed',
      runStartedAt: run.runStartedAt,
      featureGroup: 'strata-customer-features',
    });
    expect(rowsBy(summary, 'features')).toEqual({ 'strata-customer-features': 3 });
    const after = await suite.runtime.featureStore.onlineRecord('strata-customer-features', '1');
    expect(after).toMatchObject({
      customer_id: 1,
      total_spent: expect.closeTo(
        before.total_spent + (after as { order_count: number }).order_count,
        6
      ),
      event_time: new Date(run.runStartedAt).toISOString(),
    });
  });

  it('fans the changed records out over ranges, and a range that fails mid-way is retried without sending a record twice', async () => {
    // Prepare: ranges of 100 in batches of 50
    const config = await suite.runtime.defaultConfig();
    config.feature_ingest = { records_per_batch: 50, records_per_range: 100 };
    config.feature_group = 'strata-ranged-features';
    await suite.runtime.putConfig(config);
    const { customer = 0 } = await warehouseCounts();
    const sent: unknown[] = [];
    const featureStore = suite.runtime.featureStore;
    const putRecords = featureStore.putRecords.bind(featureStore);
    let failed = false;
    featureStore.putRecords = async (group, records) => {
      // Range 2's second batch (records 250..299, customers 251..300) meets the service down once
      if (records[0]?.customer_id === 251 && !failed) {
        failed = true;
        throw new TransientError('feature store PutRecord: ServiceUnavailable');
      }
      sent.push(...records.map((record) => record.customer_id));
      return putRecords(group, records);
    };

    // Act
    const outcome = await suite.runtime
      .execute('pipeline', { executionName: 'e2e-ranges' })
      .finally(() => {
        featureStore.putRecords = putRecords;
      });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const { run, features, featurePlan } = (
      outcome as {
        output: {
          run: { runStartedAt: string };
          features: unknown;
          featurePlan: { ranges: number[] };
        };
      }
    ).output;
    expect(failed).toBe(true);
    expect(featurePlan.ranges).toHaveLength(Math.ceil(customer / 100));
    expect(features).toMatchObject({ records: customer, unchanged: 0, failed: 0 });
    expect(new Set(sent).size).toBe(customer);
    expect(sent).toHaveLength(customer);
    const summary = await summarizeRun(suite.runtime.store, {
      runId: 'e2e-ranges',
      runStartedAt: run.runStartedAt,
      featureGroup: 'strata-ranged-features',
    });
    expect(rowsBy(summary, 'features')).toEqual({ 'strata-ranged-features': customer });
  });

  it('quarantines rows without a primary key and reconciles the counts', async () => {
    // Prepare
    const config = await suite.runtime.defaultConfig();
    const queries = config.queries as { name: string; sql: string }[];
    const customer = queries.find((query) => query.name === 'customer');
    if (!customer) throw new Error('default config has no customer query');
    customer.sql =
      'select * replace (case when C_CUSTKEY % 50 = 0 then null else C_CUSTKEY end as C_CUSTKEY) from snowflake_sample_data.tpch_sf1.customer';
    await suite.runtime.putConfig(config);
    const customers = (await warehouseCounts()).customer ?? 0;
    const nullKeys = Math.floor(customers / 50);

    // Act
    const outcome = await suite.runtime.execute('pipeline', {
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
    expect(await keysUnder(suite.runtime.store, 'quarantine/customer/')).toEqual([
      'quarantine/customer/run=e2e-quarantine/rejected.parquet',
    ]);
  });

  it('succeeds with one alert when it holds back deletions past max_deleted_share', async () => {
    // Prepare: every customer sent; then customers 1 to 3 vanish from the source, and one record
    // in a thousand may be deleted
    await suite.runtime.execute('pipeline', { executionName: 'e2e-held-before' });
    const config = await suite.runtime.defaultConfig();
    const customer = (config.queries as { name: string; sql: string }[]).find(
      (query) => query.name === 'customer'
    );
    if (!customer) throw new Error('default config has no customer query');
    customer.sql = 'select * from snowflake_sample_data.tpch_sf1.customer where C_CUSTKEY > 3';
    config.feature_ingest = { max_deleted_share: 0.001 };
    await suite.runtime.putConfig(config);

    // Act
    const outcome = await suite.runtime.execute('pipeline', { executionName: 'e2e-held' });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const { features } = (outcome as { output: { features: { deletionsHeld: number } } }).output;
    expect(features.deletionsHeld).toBe(3);
    expect(
      suite.runtime.alerts
        .filter((alert) => alert.message.includes('e2e-held'))
        .map((alert) => [alert.subject, alert.message.split(':')[0]])
    ).toEqual([
      [
        'Strata held feature deletions',
        'Strata pipeline execution e2e-held kept 3 records of feature group strata-customer-features that are gone from gold ml_features',
      ],
    ]);
    expect(
      await suite.runtime.featureStore.onlineRecord('strata-customer-features', '1')
    ).toBeTruthy();
  });
});
