import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../engine/index.js';
import { loadGoldModel, type SqlModel } from '../../silver-to-gold/models.js';
import { buildAndCheck, givenDimensions } from './modelTestSupport.js';

let engine: DuckDbEngine;
let model: SqlModel;

beforeEach(async () => {
  engine = await DuckDbEngine.create();
  model = await loadGoldModel('sales_summary');
  await givenDimensions(engine);
});

afterEach(() => {
  engine.close();
});

describe('Model: gold.sales_summary', () => {
  it('sums orders per order date and customer region with discounted net revenue', async () => {
    // Prepare
    await engine.run(`
      insert into silver_orders values
        (100, 10, 300.00, date '2026-01-01'),  -- CANADA → AMERICA
        (101, 20, 150.00, date '2026-01-01'),  -- UNITED STATES → AMERICA
        (102, 30, 80.00, date '2026-01-01'),   -- FRANCE → EUROPE
        (103, 10, 50.50, date '2026-01-02');   -- no line items
      insert into silver_lineitem values
        (100, 1, 2, 100.00, 0.10),  -- 90.00
        (100, 2, 1, 200.00, 0.05),  -- 190.00
        (101, 1, 3, 150.00, 0.00),  -- 150.00
        (102, 1, 4, 80.00, 0.25);   -- 60.00
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([
      {
        order_date: '2026-01-01',
        region_name: 'AMERICA',
        count_orders: '2',
        count_line_items: '3',
        quantity: '6.00',
        gross_sales: '450.00',
        net_revenue: '430.00',
      },
      {
        order_date: '2026-01-01',
        region_name: 'EUROPE',
        count_orders: '1',
        count_line_items: '1',
        quantity: '4.00',
        gross_sales: '80.00',
        net_revenue: '60.00',
      },
      {
        order_date: '2026-01-02',
        region_name: 'AMERICA',
        count_orders: '1',
        count_line_items: '0',
        quantity: '0.00',
        gross_sales: '50.50',
        net_revenue: '0.00',
      },
    ]);
  });

  it('rounds the summed net revenue, not each line', async () => {
    // Prepare
    await engine.run(`
      insert into silver_orders values (200, 30, 66.66, date '2026-02-01');
      insert into silver_lineitem values
        (200, 1, 1, 33.33, 0.07),  -- 30.9969
        (200, 2, 1, 33.33, 0.07);  -- 30.9969
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([
      expect.objectContaining({
        order_date: '2026-02-01',
        region_name: 'EUROPE',
        count_line_items: '2',
        net_revenue: '61.99',
      }),
    ]);
  });

  it('drops orders whose customer has no nation or region', async () => {
    // Prepare
    await engine.run(`
      insert into silver_customer values (50, 99, 'BUILDING');
      insert into silver_orders values
        (300, 50, 10.00, date '2026-03-01'),
        (301, 77, 20.00, date '2026-03-01'),
        (302, 10, 30.00, date '2026-03-01');
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([
      expect.objectContaining({ region_name: 'AMERICA', count_orders: '1', gross_sales: '30.00' }),
    ]);
  });

  it('passes every quality rule its header declares', async () => {
    // Prepare
    await engine.run(`
      insert into silver_orders
        select
          k as o_orderkey,
          (k % 3 + 1) * 10 as o_custkey,
          cast(k as decimal(12,2)) as o_totalprice,
          date '2026-01-01' + cast(k % 4 as integer) as o_orderdate
        from range(1, 41) as t(k);
      insert into silver_lineitem
        select k, 1, 1, 10.00, 0.10 from range(1, 41, 2) as t(k);
    `);

    // Act
    const { rows, checked, failed } = await buildAndCheck(engine, model, 8);

    // Assess
    expect(checked).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^unique\(/),
        expect.stringMatching(/^not_null\(/),
      ])
    );
    expect(failed).toEqual([]);
    expect(rows).toHaveLength(8);
    expect(rows.reduce((sum, row) => sum + Number(row.count_orders), 0)).toBe(40);
  });

  it('returns no rows from empty silver tables', async () => {
    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([]);
  });
});
