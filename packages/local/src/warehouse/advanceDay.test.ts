import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbEngine } from '@strata/core/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceDay } from './advanceDay.js';
import { seedTpch, TPCH_SCHEMA } from './seedTpch.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-advance-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Counts and fingerprints of the warehouse's tables. */
const state = (path: string) =>
  DuckDbEngine.use({ path }, async (engine) => {
    const [row] = await engine.all(`
      select
        (select count(*) from ${TPCH_SCHEMA}.orders) as orders,
        (select count(*) from ${TPCH_SCHEMA}.lineitem) as lineitems,
        (select count(*) from ${TPCH_SCHEMA}.customer) as customers,
        (select max(O_ORDERDATE)::varchar from ${TPCH_SCHEMA}.orders) as latest,
        (select md5(string_agg(c::varchar, '' order by C_CUSTKEY)) from ${TPCH_SCHEMA}.customer as c) as customer_hash,
        (select md5(string_agg(l::varchar, '' order by L_ORDERKEY, L_LINENUMBER)) from ${TPCH_SCHEMA}.lineitem as l) as lineitem_hash,
        (select count(*) from ${TPCH_SCHEMA}.orders as o
          where not exists (select 1 from ${TPCH_SCHEMA}.lineitem as l where l.L_ORDERKEY = o.O_ORDERKEY)) as orders_without_lines`);
    return row as Record<string, string>;
  });

describe('Function: advanceDay', () => {
  it('adds a day of orders with a late one, changes and deletes customers, and is repeatable', async () => {
    // Prepare
    const [a, b] = [join(dir, 'a.duckdb'), join(dir, 'b.duckdb')];
    await seedTpch({ path: a, scale: 0.001, seed: 7 });
    await seedTpch({ path: b, scale: 0.001, seed: 7 });
    const before = await state(a);

    // Act
    const first = await advanceDay({ path: a });
    const afterFirst = await state(a);
    const second = await advanceDay({ path: a });
    const afterSecond = await state(a);
    await advanceDay({ path: b });
    await advanceDay({ path: b });

    // Assess
    const nextDay = (date: string) =>
      new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(first).toMatchObject({
      day: 1,
      businessDate: nextDay(before.latest ?? ''),
      newOrders: 4,
      lateOrders: 1,
      movedCustomers: 1,
      rebalancedCustomers: 1,
      newCustomers: 1,
    });
    expect(second).toMatchObject({ day: 2, businessDate: nextDay(first.businessDate) });
    expect(Number(afterFirst.orders)).toBe(Number(before.orders) + first.newOrders);
    expect(Number(afterFirst.lineitems)).toBe(Number(before.lineitems) + first.newLineItems);
    expect(afterFirst.customers).toBe(before.customers);
    expect(afterFirst.latest).toBe(first.businessDate);
    expect(afterSecond.orders_without_lines).toBe('0');
    expect(first.deletedCustomer).not.toBe(second.deletedCustomer);
    expect(await state(b)).toEqual(afterSecond);
    await DuckDbEngine.use({ path: a }, async (engine) => {
      const late = await engine.all(
        `select O_ORDERDATE::varchar as day, count(*) as n from ${TPCH_SCHEMA}.orders
         where O_ORDERKEY > ${before.orders} group by 1 order by 1`
      );
      // Day 1's late order is dated the day before it; day 2's, day 1's date.
      expect(late).toEqual([
        { day: before.latest, n: '1' },
        { day: first.businessDate, n: String(first.newOrders - 1 + second.lateOrders) },
        { day: second.businessDate, n: String(second.newOrders - 1) },
      ]);
      const gone = await engine.all(
        `select C_CUSTKEY from ${TPCH_SCHEMA}.customer where C_CUSTKEY in (${first.deletedCustomer}, ${second.deletedCustomer})`
      );
      expect(gone).toEqual([]);
    });
  });
});
