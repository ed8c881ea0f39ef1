import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../engine/index.js';
import { contractMismatches, parseFeatureContract } from '../../feature-contract/index.js';
import { loadGoldModel, type SqlModel } from '../../silver-to-gold/models.js';
import { buildAndCheck, givenDimensions } from './modelTestSupport.js';

let engine: DuckDbEngine;
let model: SqlModel;

beforeEach(async () => {
  engine = await DuckDbEngine.create();
  model = await loadGoldModel('ml_features');
  await givenDimensions(engine);
  await engine.run('alter table silver_customer add column _deleted_at timestamptz');
});

afterEach(() => {
  engine.close();
});

describe('Model: gold.ml_features', () => {
  it('computes per-customer order features and the date of the last order', async () => {
    // Prepare
    await engine.run(`
      insert into silver_orders values
        (100, 10, 300.00, date '2026-01-01'),
        (103, 10, 50.50, date '2026-01-11'),
        (101, 20, 150.00, date '2026-01-01'),
        (102, 30, 80.00, date '2026-01-04');
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([
      {
        customer_id: '10',
        order_count: '2',
        total_spent: 350.5,
        avg_order_value: 175.25,
        last_order_date: '2026-01-11',
        nation: 'CANADA',
        region: 'AMERICA',
        market_segment: 'BUILDING',
      },
      {
        customer_id: '20',
        order_count: '1',
        total_spent: 150,
        avg_order_value: 150,
        last_order_date: '2026-01-01',
        nation: 'UNITED STATES',
        region: 'AMERICA',
        market_segment: 'MACHINERY',
      },
      {
        customer_id: '30',
        order_count: '1',
        total_spent: 80,
        avg_order_value: 80,
        last_order_date: '2026-01-04',
        nation: 'FRANCE',
        region: 'EUROPE',
        market_segment: 'AUTOMOBILE',
      },
      {
        customer_id: '40',
        order_count: '0',
        total_spent: 0,
        avg_order_value: 0,
        last_order_date: null,
        nation: 'FRANCE',
        region: 'EUROPE',
        market_segment: 'HOUSEHOLD',
      },
    ]);
  });

  it('gives every customer zero orders and no last order when there are no orders at all', async () => {
    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows.map((row) => [row.customer_id, row.order_count, row.total_spent])).toEqual([
      ['10', '0', 0],
      ['20', '0', 0],
      ['30', '0', 0],
      ['40', '0', 0],
    ]);
    expect(rows.every((row) => row.last_order_date === null)).toBe(true);
  });

  it('leaves out customers whose nation or region is unknown, and orders of unknown customers', async () => {
    // Prepare
    await engine.run(`
      insert into silver_customer values (50, 99, 'BUILDING', null);
      insert into silver_orders values
        (300, 50, 10.00, date '2026-03-01'),
        (301, 77, 20.00, date '2026-03-05'),
        (302, 10, 30.00, date '2026-03-02');
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows.map((row) => row.customer_id)).toEqual(['10', '20', '30', '40']);
    expect(rows[0]).toMatchObject({ order_count: '1', last_order_date: '2026-03-02' });
  });

  it('leaves out customers deleted at the source', async () => {
    // Prepare
    await engine.run(
      "update silver_customer set _deleted_at = timestamptz '2026-01-30 00:00:00+00' where c_custkey = 20"
    );

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows.map((row) => row.customer_id)).toEqual(['10', '30', '40']);
  });

  it("leaves every other customer's features as they were when a later day brings one customer's order", async () => {
    // Prepare
    await engine.run(`
      insert into silver_orders values
        (100, 10, 300.00, date '2026-01-01'),
        (101, 20, 150.00, date '2026-01-02');
    `);
    const before = await engine.all(model.sql);

    // Act: the next day, customer 20 orders again
    await engine.run(`insert into silver_orders values (102, 20, 20.00, date '2026-01-03')`);
    const after = await engine.all(model.sql);

    // Assess: feature-ingest sends only the records that differ
    const changed = after.filter((row, i) => JSON.stringify(row) !== JSON.stringify(before[i]));
    expect(changed.map((row) => row.customer_id)).toEqual(['20']);
  });

  it('gives exactly the features its header declares, each of its declared type', async () => {
    // Prepare: the contract stacks/features.ts builds the feature group from
    const contract = parseFeatureContract('ml_features', model.sql);

    // Act
    const columns = await engine.all(`describe ${model.sql}`);

    // Assess
    const problems = contractMismatches(
      contract,
      columns.map((c) => ({ name: String(c.column_name), type: String(c.column_type) }))
    );
    expect(problems).toEqual([]);
    expect(contract).toMatchObject({ recordId: 'customer_id', eventTime: 'event_time' });
  });

  it('passes every quality rule its header declares', async () => {
    // Prepare
    await engine.run(`
      insert into silver_orders
        select
          k as o_orderkey,
          (k % 3 + 1) * 10 as o_custkey,
          cast(k as decimal(12,2)) as o_totalprice,
          date '2026-01-01' + cast(k as integer) as o_orderdate
        from range(1, 31) as t(k);
    `);

    // Act
    const { rows, checked, failed } = await buildAndCheck(engine, model, 4);

    // Assess
    expect(checked).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^unique\(/),
        expect.stringMatching(/^not_null\(/),
      ])
    );
    expect(failed).toEqual([]);
    expect(rows).toHaveLength(4);
    expect(rows.reduce((sum, row) => sum + Number(row.order_count), 0)).toBe(30);
  });
});
