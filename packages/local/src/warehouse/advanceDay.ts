import { DuckDbEngine } from '@strata/core/engine';
import { lineItemColumns, prngMacros, SIMULATION_SCHEMA, TPCH_SCHEMA } from './seedTpch.js';

/** What one simulated day changed in the warehouse. */
export interface SimulatedDay {
  /** 1 for the first day after seeding. */
  day: number;
  /** The day's order date: the day after the latest order before it. */
  businessDate: string;
  newOrders: number;
  /** Orders dated the day before `businessDate`, which the orders watermark has passed. */
  lateOrders: number;
  newLineItems: number;
  /** Customers whose address and phone changed (tracked by dim_customers' history). */
  movedCustomers: number;
  /** Customers whose balance changed only (not tracked: no new version). */
  rebalancedCustomers: number;
  newCustomers: number;
  /** The customer deleted at the source this day. */
  deletedCustomer: number | null;
}

/**
 * Advances the embedded warehouse by one simulated business day, as a source system would move
 * between two scheduled runs: new orders with their line items dated the next day, one late
 * order dated the day before (inside the orders query's two-day lookback, but behind its
 * watermark), a few customers who move (address and phone) and a few whose balance changes, a
 * new customer, and one customer deleted.
 *
 * Every value comes from the seeded PRNG salted with the day number, so the same seed gives
 * the same days in the same order. The sizes follow the warehouse's: about a thousandth of its
 * orders per day and four in a thousand of its customers changed.
 *
 * @example
 * const day = await advanceDay({ path: '.strata/warehouse.duckdb' });
 * @param options - the database file seedTpch created
 */
export const advanceDay = async (options: { path: string }): Promise<SimulatedDay> =>
  DuckDbEngine.use({ path: options.path, threads: 2 }, async (engine) => {
    const [settings] = await engine.all(
      `select seed, (select coalesce(max(day), 0) + 1 from ${SIMULATION_SCHEMA}.days) as day
       from ${SIMULATION_SCHEMA}.settings`
    );
    const seed = Number(settings?.seed ?? 42);
    const day = Number(settings?.day ?? 1);
    const t = TPCH_SCHEMA;
    const [sizes] = await engine.all(
      `select (select count(*) from ${t}.orders) as orders,
              (select count(*) from ${t}.customer) as customers,
              (select max(L_SUPPKEY) from ${t}.lineitem) as suppliers,
              (select max(O_ORDERDATE) + 1 from ${t}.orders)::varchar as business_date`
    );
    const newOrders = Math.max(3, Math.round(Number(sizes?.orders) / 1000));
    const changed = Math.max(1, Math.round((Number(sizes?.customers) * 4) / 1000));
    const businessDate = String(sizes?.business_date);
    const date = `date '${businessDate}'`;
    // Rows are numbered from a day-dependent base so no two days draw the same values.
    const base = day * 1_000_000;
    await engine.run(`
      ${prngMacros(seed)}
      begin;

      -- the new customer first: the key after the highest, which no deleted customer had
      insert into ${t}.customer by name
      select k as C_CUSTKEY,
             'Customer#' || lpad(k::varchar, 9, '0') as C_NAME,
             md5(${seed} || '-' || k)[1:(10 + rint(0, 15, k, 'c_address'))::int] as C_ADDRESS,
             rint(0, 24, k, 'c_nationkey') as C_NATIONKEY,
             lpad(rint(10, 34, k, 'c_phone1')::varchar, 2, '0') || '-' || rint(100, 999, k, 'c_phone2')
               || '-' || rint(100, 999, k, 'c_phone3') || '-' || rint(1000, 9999, k, 'c_phone4') as C_PHONE,
             round(-999.99 + rnd(k, 'c_acctbal') * 10999.98, 2)::decimal(12, 2) as C_ACCTBAL,
             pick(['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD', 'MACHINERY'], k, 'c_mktsegment') as C_MKTSEGMENT,
             words(k, 'c_comment') as C_COMMENT
      from (select max(C_CUSTKEY) + 1 as k from ${t}.customer);

      -- then the deleted one (not the new one), before any order could go to it
      create temp table deleted as
      select C_CUSTKEY from ${t}.customer
      where C_CUSTKEY < (select max(C_CUSTKEY) from ${t}.customer)
      order by hash(${seed}, ${day}, C_CUSTKEY, 'delete') limit 1;
      delete from ${t}.customer where C_CUSTKEY in (select C_CUSTKEY from deleted);

      create temp table moved as
      select C_CUSTKEY from ${t}.customer
      order by hash(${seed}, ${day}, C_CUSTKEY, 'move') limit ${changed};
      update ${t}.customer set
        C_ADDRESS = md5(${seed} || '-' || ${day} || '-' || C_CUSTKEY)[1:(10 + rint(0, 15, ${base} + C_CUSTKEY, 'c_address'))::int],
        C_PHONE = lpad(rint(10, 34, ${base} + C_CUSTKEY, 'c_phone1')::varchar, 2, '0') || '-'
          || rint(100, 999, ${base} + C_CUSTKEY, 'c_phone2') || '-'
          || rint(100, 999, ${base} + C_CUSTKEY, 'c_phone3') || '-'
          || rint(1000, 9999, ${base} + C_CUSTKEY, 'c_phone4')
      where C_CUSTKEY in (select C_CUSTKEY from moved);

      create temp table rebalanced as
      select C_CUSTKEY from ${t}.customer
      where C_CUSTKEY not in (select C_CUSTKEY from moved)
      order by hash(${seed}, ${day}, C_CUSTKEY, 'balance') limit ${changed};
      update ${t}.customer set
        C_ACCTBAL = round(-999.99 + rnd(${base} + C_CUSTKEY, 'c_acctbal') * 10999.98, 2)::decimal(12, 2)
      where C_CUSTKEY in (select C_CUSTKEY from rebalanced);

      -- today's orders, and the last one dated yesterday: a late arrival
      create temp table day_orders as
      with live as (
        select C_CUSTKEY, row_number() over (order by C_CUSTKEY) - 1 as n from ${t}.customer
      ),
      keys as (
        select (select max(O_ORDERKEY) from ${t}.orders) + i as o, i
        from range(1, ${newOrders + 2}) as r(i)
      )
      select k.o, l.C_CUSTKEY as custkey,
             case when k.i = ${newOrders + 1} then ${date} - 1 else ${date} end as orderdate
      from keys as k
      inner join live as l
        on l.n = rint(0, (select count(*) - 1 from live), ${base} + k.o, 'o_custkey');

      create temp table day_lines as
      with order_lines as (
        select o as L_ORDERKEY, orderdate,
               unnest(range(1, 1 + rint(1, 7, ${base} + o, 'lines')::int)) as L_LINENUMBER
        from day_orders
      ),
      lines as (
        select *, ${base} + L_ORDERKEY * 8 + L_LINENUMBER as k,
               rint(1, (select max(P_PARTKEY) from ${t}.part), ${base} + L_ORDERKEY * 8 + L_LINENUMBER, 'l_partkey') as partkey
        from order_lines
      )
      select ${lineItemColumns({ suppliers: Number(sizes?.suppliers ?? 1), open: true })}
      from lines;

      insert into ${t}.lineitem by name select * from day_lines;

      insert into ${t}.orders by name
      select d.o as O_ORDERKEY, d.custkey as O_CUSTKEY, 'O' as O_ORDERSTATUS,
             round(sum(l.L_EXTENDEDPRICE * (1 + l.L_TAX) * (1 - l.L_DISCOUNT)), 2)::decimal(12, 2) as O_TOTALPRICE,
             d.orderdate as O_ORDERDATE,
             pick(['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'], ${base} + d.o, 'o_orderpriority') as O_ORDERPRIORITY,
             'Clerk#' || lpad(rint(1, 1000, ${base} + d.o, 'o_clerk')::varchar, 9, '0') as O_CLERK,
             0::bigint as O_SHIPPRIORITY,
             words(${base} + d.o, 'o_comment') as O_COMMENT
      from day_orders as d inner join day_lines as l on l.L_ORDERKEY = d.o
      group by d.o, d.custkey, d.orderdate;

      insert into ${SIMULATION_SCHEMA}.days values (
        ${day}, ${date}, ${newOrders + 1}, 1, (select count(*) from day_lines),
        ${changed * 2}, 1, (select C_CUSTKEY from deleted)
      );
      commit;
      checkpoint;
    `);
    const [recorded] = await engine.all(
      `select new_line_items, deleted_customer from ${SIMULATION_SCHEMA}.days where day = ${day}`
    );
    return {
      day,
      businessDate,
      newOrders: newOrders + 1,
      lateOrders: 1,
      newLineItems: Number(recorded?.new_line_items ?? 0),
      movedCustomers: changed,
      rebalancedCustomers: changed,
      newCustomers: 1,
      deletedCustomer:
        recorded?.deleted_customer == null ? null : Number(recorded.deleted_customer),
    };
  });
