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
  it('sums line items per order date, customer region and part category', async () => {
    // Prepare
    await engine.run(`
      insert into silver_orders values
        (100, 10, 300.00, date '2026-01-01'),  -- CANADA → AMERICA
        (101, 20, 150.00, date '2026-01-01'),  -- UNITED STATES → AMERICA
        (102, 30, 80.00, date '2026-01-01'),   -- FRANCE → EUROPE
        (103, 10, 50.50, date '2026-01-02');   -- no line items
      insert into silver_lineitem values
        (100, 1, 2, 100.00, 0.10, 1),  -- STANDARD 90.00
        (100, 2, 1, 200.00, 0.05, 2),  -- PROMO 190.00
        (101, 1, 3, 150.00, 0.00, 1),  -- STANDARD 150.00
        (102, 1, 4, 80.00, 0.25, 3);   -- STANDARD 60.00
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([
      {
        order_date: '2026-01-01',
        region_name: 'AMERICA',
        category: 'PROMO',
        count_orders: '1',
        count_line_items: '1',
        quantity: '1.00',
        gross_sales: '200.00',
        net_revenue: '190.0000',
      },
      {
        order_date: '2026-01-01',
        region_name: 'AMERICA',
        category: 'STANDARD',
        count_orders: '2',
        count_line_items: '2',
        quantity: '5.00',
        gross_sales: '250.00',
        net_revenue: '240.0000',
      },
      {
        order_date: '2026-01-01',
        region_name: 'EUROPE',
        category: 'STANDARD',
        count_orders: '1',
        count_line_items: '1',
        quantity: '4.00',
        gross_sales: '80.00',
        net_revenue: '60.0000',
      },
    ]);
  });

  it('keeps net revenue unrounded per group, so its sum equals silver’s to the cent', async () => {
    // Prepare: 0.095 per line in three groups; rounding each group first gave 0.30, not 0.285
    await engine.run(`
      insert into silver_orders values
        (200, 30, 0.10, date '2026-02-01'),
        (201, 30, 0.10, date '2026-02-02'),
        (202, 30, 0.10, date '2026-02-03');
      insert into silver_lineitem values
        (200, 1, 1, 0.10, 0.05, 1), (201, 1, 1, 0.10, 0.05, 1), (202, 1, 1, 0.10, 0.05, 1);
    `);

    // Act
    const [totals] = await engine.all(`
      select
        (select sum(net_revenue) from (${model.sql})) as gold,
        (select sum(l_extendedprice * (1 - l_discount)) from silver_lineitem) as silver`);

    // Assess
    expect(totals).toEqual({ gold: '0.2850', silver: '0.2850' });
  });

  it('drops line items whose customer has no nation or region', async () => {
    // Prepare
    await engine.run(`
      insert into silver_customer values (50, 99, 'BUILDING');
      insert into silver_orders values
        (300, 50, 10.00, date '2026-03-01'),
        (301, 77, 20.00, date '2026-03-01'),
        (302, 10, 30.00, date '2026-03-01');
      insert into silver_lineitem values
        (300, 1, 1, 10.00, 0, 1), (301, 1, 1, 20.00, 0, 1), (302, 1, 1, 30.00, 0, 1);
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([
      expect.objectContaining({ region_name: 'AMERICA', count_orders: '1', gross_sales: '30.00' }),
    ]);
  });

  it('keeps the sales of a customer deleted at the source', async () => {
    // Prepare
    await engine.run(`
      alter table silver_customer add column _deleted_at timestamptz;
      update silver_customer set _deleted_at = timestamptz '2026-03-02 00:00:00+00'
      where c_custkey = 10;
      insert into silver_orders values (400, 10, 30.00, date '2026-03-01');
      insert into silver_lineitem values (400, 1, 1, 30.00, 0, 1);
    `);

    // Act
    const rows = await engine.all(model.sql);

    // Assess
    expect(rows).toEqual([
      expect.objectContaining({ region_name: 'AMERICA', gross_sales: '30.00' }),
    ]);
  });

  it('passes every quality rule its header declares', async () => {
    // Prepare: the category follows the day (even days STANDARD, odd PROMO)
    await engine.run(`
      insert into silver_orders
        select
          k as o_orderkey,
          (k % 3 + 1) * 10 as o_custkey,
          cast(k as decimal(12,2)) as o_totalprice,
          date '2026-01-01' + cast(k % 4 as integer) as o_orderdate
        from range(1, 41) as t(k);
      insert into silver_lineitem
        select k, 1, 1, 10.00, 0.10, k % 2 + 1 from range(1, 41) as t(k);
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
