import { rm } from 'node:fs/promises';
import { DuckDbEngine } from '@strata/core/engine';

export interface SeedTpchOptions {
  /** Database file to create (replaced if it exists). */
  path: string;
  /** TPC-H scale factor: 1 is SNOWFLAKE_SAMPLE_DATA.TPCH_SF1's size; 0.01 is the laptop default. */
  scale?: number;
  /** PRNG seed: the same seed and scale always produce the same rows. */
  seed?: number;
}

export interface SeedTpchResult {
  path: string;
  tables: Record<string, number>;
}

/** The schema the tables live in, as in Snowflake's sample database. */
export const TPCH_SCHEMA = 'tpch_sf1';

/**
 * The schema holding the day simulation's state beside the TPC-H tables; no extract reads it.
 */
export const SIMULATION_SCHEMA = 'strata_simulation';

const NATIONS: readonly [string, number][] = [
  ['ALGERIA', 0],
  ['ARGENTINA', 1],
  ['BRAZIL', 1],
  ['CANADA', 1],
  ['EGYPT', 4],
  ['ETHIOPIA', 0],
  ['FRANCE', 3],
  ['GERMANY', 3],
  ['INDIA', 2],
  ['INDONESIA', 2],
  ['IRAN', 4],
  ['IRAQ', 4],
  ['JAPAN', 2],
  ['JORDAN', 4],
  ['KENYA', 0],
  ['MOROCCO', 0],
  ['MOZAMBIQUE', 0],
  ['PERU', 1],
  ['CHINA', 2],
  ['ROMANIA', 3],
  ['SAUDI ARABIA', 4],
  ['VIETNAM', 2],
  ['RUSSIA', 3],
  ['UNITED KINGDOM', 3],
  ['UNITED STATES', 1],
];
const REGIONS = ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'] as const;

/**
 * The seeded, stateless PRNG the generator's statements share, as temp macros: `rnd(i, salt)`
 * uniform in [0, 1) from a row number and a column salt, `pick`, `rint` and `words` built on it.
 *
 * @param seed - the PRNG seed
 */
export const prngMacros = (seed: number): string => `
  create or replace temp macro rnd(i, salt) as (hash(${Math.trunc(seed)}, i, salt) % 1000000) / 1000000.0;
  create or replace temp macro pick(options, i, salt) as options[1 + floor(rnd(i, salt) * len(options))::int];
  create or replace temp macro rint(lo, hi, i, salt) as lo + floor(rnd(i, salt) * (hi - lo + 1))::bigint;
  create or replace temp macro words(i, salt) as
    pick(['final', 'regular', 'express', 'special', 'pending', 'bold', 'quick', 'silent'], i, salt || 'a')
    || ' ' || pick(['deposits', 'requests', 'accounts', 'packages', 'theodolites', 'pinto beans'], i, salt || 'b')
    || ' ' || pick(['sleep', 'wake', 'haggle', 'nag', 'use', 'boost', 'cajole', 'detect'], i, salt || 'c');`;

/**
 * The select list of TPC-H line items over a relation of `L_ORDERKEY`, `L_LINENUMBER`, `k` (the
 * line's PRNG row number), `partkey` and `orderdate`, with the PRNG macros defined. A line of an
 * order placed today (`open`) is not yet returned or finished.
 *
 * @param options - how many suppliers there are, whether the lines are of new orders
 */
export const lineItemColumns = (options: { suppliers: number; open: boolean }): string => `
  L_ORDERKEY, partkey as L_PARTKEY,
  rint(1, ${options.suppliers}, k, 'l_suppkey') as L_SUPPKEY, L_LINENUMBER::bigint as L_LINENUMBER,
  rint(1, 50, k, 'l_quantity')::decimal(12, 2) as L_QUANTITY,
  (rint(1, 50, k, 'l_quantity') * (90000 + ((partkey // 10) % 20001) + 100 * (partkey % 1000)) / 100)::decimal(12, 2) as L_EXTENDEDPRICE,
  (rint(0, 10, k, 'l_discount') / 100)::decimal(12, 2) as L_DISCOUNT,
  (rint(0, 8, k, 'l_tax') / 100)::decimal(12, 2) as L_TAX,
  ${options.open ? `'N'` : `pick(['R', 'A', 'N'], k, 'l_returnflag')`} as L_RETURNFLAG,
  ${options.open ? `'O'` : `pick(['O', 'F'], k, 'l_linestatus')`} as L_LINESTATUS,
  orderdate + rint(1, 121, k, 'l_shipdate')::int as L_SHIPDATE,
  orderdate + rint(30, 90, k, 'l_commitdate')::int as L_COMMITDATE,
  orderdate + rint(1, 121, k, 'l_shipdate')::int + rint(1, 30, k, 'l_receiptdate')::int as L_RECEIPTDATE,
  pick(['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'], k, 'l_shipinstruct') as L_SHIPINSTRUCT,
  pick(['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'], k, 'l_shipmode') as L_SHIPMODE,
  words(k, 'l_comment') as L_COMMENT`;

const list = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;

/**
 * Creates a TPC-H-shaped database with the table and column names of Snowflake's
 * `SNOWFLAKE_SAMPLE_DATA.TPCH_SF1`, so the default extract config runs unchanged on both.
 *
 * Values come from a counter-based PRNG (DuckDB's `hash` of seed, row number and column), which
 * is deterministic for a given seed and scale and needs no generator state, so every table is
 * one set-based statement.
 *
 * @example
 * await seedTpch({ path: '.strata/warehouse.duckdb', scale: 0.01 });
 * @param options - where, how big, which seed
 */
export const seedTpch = async (options: SeedTpchOptions): Promise<SeedTpchResult> => {
  const scale = options.scale ?? 0.01;
  const seed = Math.trunc(options.seed ?? 42);
  const customers = Math.max(10, Math.round(150_000 * scale));
  const orders = Math.max(10, Math.round(1_500_000 * scale));
  const parts = Math.max(10, Math.round(200_000 * scale));
  const suppliers = Math.max(1, Math.round(10_000 * scale));

  await rm(options.path, { force: true });
  await rm(`${options.path}.wal`, { force: true });
  const engine = await DuckDbEngine.create({ path: options.path, threads: 2 });
  try {
    await engine.run(`
      create schema ${TPCH_SCHEMA};
      use ${TPCH_SCHEMA};
      ${prngMacros(seed)}

      create table region as
      select r.i::bigint as R_REGIONKEY, r.name::varchar as R_NAME, words(r.i, 'r_comment') as R_COMMENT
      from (select unnest(range(0, 5)) as i, unnest(${list(REGIONS)}) as name) as r;

      create table nation as
      select n.i::bigint as N_NATIONKEY, n.name::varchar as N_NAME, n.region::bigint as N_REGIONKEY,
             words(n.i, 'n_comment') as N_COMMENT
      from (select unnest(range(0, 25)) as i,
                   unnest(${list(NATIONS.map(([name]) => name))}) as name,
                   unnest([${NATIONS.map(([, region]) => region).join(', ')}]) as region) as n;

      create table customer as
      select i as C_CUSTKEY,
             'Customer#' || lpad(i::varchar, 9, '0') as C_NAME,
             md5(${seed} || '-' || i)[1:(10 + rint(0, 15, i, 'c_address'))::int] as C_ADDRESS,
             rint(0, 24, i, 'c_nationkey') as C_NATIONKEY,
             lpad(rint(10, 34, i, 'c_phone1')::varchar, 2, '0') || '-' || rint(100, 999, i, 'c_phone2') || '-'
               || rint(100, 999, i, 'c_phone3') || '-' || rint(1000, 9999, i, 'c_phone4') as C_PHONE,
             round(-999.99 + rnd(i, 'c_acctbal') * 10999.98, 2)::decimal(12, 2) as C_ACCTBAL,
             pick(['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD', 'MACHINERY'], i, 'c_mktsegment') as C_MKTSEGMENT,
             words(i, 'c_comment') as C_COMMENT
      from range(1, ${customers + 1}) as t(i);

      create table part as
      select i as P_PARTKEY,
             pick(['almond', 'antique', 'aquamarine', 'azure', 'beige', 'bisque', 'black', 'blush'], i, 'p_name1')
               || ' ' || pick(['burlywood', 'chartreuse', 'chiffon', 'coral', 'cornsilk', 'cream'], i, 'p_name2') as P_NAME,
             'Manufacturer#' || rint(1, 5, i, 'p_mfgr') as P_MFGR,
             'Brand#' || rint(1, 5, i, 'p_brand1') || rint(1, 5, i, 'p_brand2') as P_BRAND,
             pick(['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'], i, 'p_type1') || ' '
               || pick(['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'], i, 'p_type2') || ' '
               || pick(['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'], i, 'p_type3') as P_TYPE,
             rint(1, 50, i, 'p_size') as P_SIZE,
             pick(['SM', 'LG', 'MED', 'JUMBO', 'WRAP'], i, 'p_container1') || ' '
               || pick(['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'], i, 'p_container2') as P_CONTAINER,
             ((90000 + ((i // 10) % 20001) + 100 * (i % 1000)) / 100)::decimal(12, 2) as P_RETAILPRICE,
             words(i, 'p_comment') as P_COMMENT
      from range(1, ${parts + 1}) as t(i);

      create table lineitem as
      with order_lines as (
        select o as L_ORDERKEY, unnest(range(1, 1 + rint(1, 7, o, 'lines')::int)) as L_LINENUMBER
        from range(1, ${orders + 1}) as t(o)
      ),
      lines as (
        select *, L_ORDERKEY * 8 + L_LINENUMBER as k,
               rint(1, ${parts}, L_ORDERKEY * 8 + L_LINENUMBER, 'l_partkey') as partkey,
               date '1992-01-01' + rint(0, 2405, L_ORDERKEY, 'o_orderdate')::int as orderdate
        from order_lines
      )
      select ${lineItemColumns({ suppliers, open: false })}
      from lines;

      create table orders as
      with totals as (
        select L_ORDERKEY, sum(L_EXTENDEDPRICE * (1 + L_TAX) * (1 - L_DISCOUNT)) as total,
               bool_and(L_LINESTATUS = 'F') as all_f, bool_and(L_LINESTATUS = 'O') as all_o
        from lineitem group by L_ORDERKEY
      )
      select o as O_ORDERKEY,
             rint(1, ${customers}, o, 'o_custkey') as O_CUSTKEY,
             case when t.all_f then 'F' when t.all_o then 'O' else 'P' end as O_ORDERSTATUS,
             round(t.total, 2)::decimal(12, 2) as O_TOTALPRICE,
             date '1992-01-01' + rint(0, 2405, o, 'o_orderdate')::int as O_ORDERDATE,
             pick(['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'], o, 'o_orderpriority') as O_ORDERPRIORITY,
             'Clerk#' || lpad(rint(1, greatest(1, ${Math.round(1000 * scale)}), o, 'o_clerk')::varchar, 9, '0') as O_CLERK,
             0::bigint as O_SHIPPRIORITY,
             words(o, 'o_comment') as O_COMMENT
      from range(1, ${orders + 1}) as r(o)
      inner join totals as t on t.L_ORDERKEY = r.o
      order by o;
    `);
    const tables: Record<string, number> = {};
    for (const table of ['region', 'nation', 'customer', 'part', 'orders', 'lineitem']) {
      tables[table] = await engine.scalarNumber(`select count(*) from ${TPCH_SCHEMA}.${table}`);
    }
    // What the day simulation (advanceDay) needs to carry on from these rows.
    await engine.run(`
      create schema ${SIMULATION_SCHEMA};
      create table ${SIMULATION_SCHEMA}.settings as select ${seed} as seed, ${scale} as scale;
      create table ${SIMULATION_SCHEMA}.days (
        day integer, business_date date, new_orders integer, late_orders integer,
        new_line_items integer, changed_customers integer, new_customers integer,
        deleted_customer bigint
      );
      checkpoint;
    `);
    return { path: options.path, tables };
  } finally {
    engine.close();
  }
};
