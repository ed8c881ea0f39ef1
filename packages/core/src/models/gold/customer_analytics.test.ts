import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../engine/index.js';
import { loadGoldModel, type SqlModel } from '../../silver-to-gold/models.js';
import { buildAndCheck, givenDimensions } from './modelTestSupport.js';

let engine: DuckDbEngine;
let model: SqlModel;

beforeEach(async () => {
  engine = await DuckDbEngine.create();
  model = await loadGoldModel('customer_analytics');
  await givenDimensions(engine);
  await engine.run(`
    alter table silver_customer add column _deleted_at timestamptz;
    insert into silver_customer values (50, 3, 'BUILDING', null);
    update silver_customer set _deleted_at = timestamptz '2026-01-30 00:00:00+00'
    where c_custkey = 40;
  `);
});

afterEach(() => {
  engine.close();
});

/** Three live customers with orders, one without, and a deleted one with an order. */
const givenOrders = () =>
  engine.run(`
    insert into silver_orders values
      (1, 10, 100.00, date '2026-01-01'),
      (2, 10, 300.00, date '2026-01-11'),
      (3, 20, 50.00, date '2026-01-21'),
      (4, 40, 999.00, date '2026-01-05'),
      (5, 30, 20.00, date '2025-12-22');
    insert into silver_lineitem values
      (1, 1, 1, 100.00, 0.00, 1),  -- STANDARD 100
      (2, 1, 1, 300.00, 0.00, 2),  -- PROMO 300
      (2, 2, 1, 100.00, 0.50, 3),  -- STANDARD 50
      (3, 1, 1, 50.00, 0.00, 3),   -- STANDARD 50
      (4, 1, 1, 999.00, 0.00, 2);
  `);

describe('Model: gold.customer_analytics', () => {
  it('scores live customers by recency, frequency and value, as the header says', async () => {
    // Prepare
    await givenOrders();

    // Act
    const rows = await engine.all(model.sql);

    // Assess: the latest order (2026-01-21) is the reference; the only gap is 10 days (c10)
    expect(rows).toEqual([
      {
        customer_id: '10',
        region: 'AMERICA',
        market_segment: 'BUILDING',
        segment: 'loyal',
        preferred_category: 'PROMO',
        order_count: '2',
        lifetime_value: '400.00',
        average_order_value: '200.00',
        recency_days: '10',
        recency_score: 3,
        frequency_score: 5,
        monetary_score: 5,
        churn_probability: 0.6321, // 1 − e^(−10/10)
        last_order_date: '2026-01-11',
      },
      {
        customer_id: '20',
        region: 'AMERICA',
        market_segment: 'MACHINERY',
        segment: 'recent',
        preferred_category: 'STANDARD',
        order_count: '1',
        lifetime_value: '50.00',
        average_order_value: '50.00',
        recency_days: '0',
        recency_score: 5,
        frequency_score: 1,
        monetary_score: 3,
        churn_probability: 0,
        last_order_date: '2026-01-21',
      },
      {
        customer_id: '30',
        region: 'EUROPE',
        market_segment: 'AUTOMOBILE',
        segment: 'hibernating',
        preferred_category: null,
        order_count: '1',
        lifetime_value: '20.00',
        average_order_value: '20.00',
        recency_days: '30',
        recency_score: 1,
        frequency_score: 1,
        monetary_score: 1,
        churn_probability: 0.9502, // 1 − e^(−30/10), the median gap standing in for its own
        last_order_date: '2025-12-22',
      },
      {
        customer_id: '50',
        region: 'EUROPE',
        market_segment: 'BUILDING',
        segment: 'prospect',
        preferred_category: null,
        order_count: '0',
        lifetime_value: '0.00',
        average_order_value: '0.00',
        recency_days: null,
        recency_score: null,
        frequency_score: null,
        monetary_score: null,
        churn_probability: null,
        last_order_date: null,
      },
    ]);
  });

  it('passes every quality rule its header declares', async () => {
    // Prepare
    await givenOrders();

    // Act
    const { checked, failed } = await buildAndCheck(engine, model, 4);

    // Assess
    expect(checked).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^accepted_values\(segment/),
        expect.stringMatching(/^range\(churn_probability/),
      ])
    );
    expect(failed).toEqual([]);
  });
});
