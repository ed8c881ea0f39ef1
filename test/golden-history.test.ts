import { join } from 'node:path';
import { DuckDbWarehouse } from '@strata/core/adapters';
import { type BronzeToSilverResult, runBronzeToSilver } from '@strata/core/bronze-to-silver';
import { configSchema, parseOrThrow, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import { runExtract } from '@strata/core/extract';
import { Lake, readSilverManifest, viewSilverTable } from '@strata/core/lake';
import { runSilverToGold } from '@strata/core/silver-to-gold';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from './support/localLake.js';

/*
 * A hand-checked golden dataset: three daily runs over a small TPC-H-shaped source with
 * customers that change (tracked and untracked columns), a customer deleted at the source,
 * a late order inside the orders' lookback, and incremental orders and line items. Every
 * expected value below was worked out by hand from the source rows in this file.
 */

let lake: LocalLake;
let warehousePath: string;

const T1 = '2026-03-01T06:00:00.000Z';
const T2 = '2026-03-02T06:00:00.000Z';
const T3 = '2026-03-03T06:00:00.000Z';

const config = () =>
  parseOrThrow(
    configSchema,
    {
      source_system: 'golden',
      warehouse: { type: 'duckdb', path: warehousePath, database: 'src' },
      queries: [
        { name: 'region', sql: 'select * from src.region', primary_key: ['R_REGIONKEY'] },
        { name: 'nation', sql: 'select * from src.nation', primary_key: ['N_NATIONKEY'] },
        {
          name: 'customer',
          sql: 'select * from src.customer',
          primary_key: ['C_CUSTKEY'],
          history: {
            table: 'dim_customers',
            surrogate_key: 'customer_sk',
            tracked: ['C_NAME', 'C_ADDRESS', 'C_NATIONKEY', 'C_PHONE', 'C_MKTSEGMENT'],
          },
        },
        { name: 'part', sql: 'select * from src.part', primary_key: ['P_PARTKEY'] },
        {
          name: 'orders',
          sql: 'select * from src.orders',
          primary_key: ['O_ORDERKEY'],
          watermark_column: 'O_ORDERDATE',
          lookback: 2 * 86_400,
          silver_partition: { column: 'O_ORDERDATE', by: 'day' },
        },
        {
          name: 'lineitem',
          sql: 'select * from src.lineitem',
          primary_key: ['L_ORDERKEY', 'L_LINENUMBER'],
          watermark_column: 'L_ORDERKEY',
          silver_partition: { column: 'L_ORDERKEY', by: 2 },
        },
      ],
    },
    'config'
  );

const source = (sql: string) =>
  DuckDbEngine.use({ path: warehousePath }, (engine) => engine.run(sql));

/** One day's run of extract, bronze-to-silver and silver-to-gold, as the pipeline runs them. */
const runDay = async (runId: string, startedAt: string): Promise<BronzeToSilverResult> => {
  const cfg = config();
  const warehouse = new DuckDbWarehouse({ path: warehousePath, database: 'src' });
  try {
    return await DuckDbEngine.use({}, async (engine) => {
      const extracts = [];
      for (const query of cfg.queries) {
        extracts.push(
          await runExtract(
            { entity: query.name, runId, runDate: startedAt.slice(0, 10), runStartedAt: startedAt },
            { store: lake.store, warehouse, engine, config: cfg, watermarks: lake.watermarks }
          )
        );
      }
      const silver = await runBronzeToSilver(
        { runId, extracts },
        { store: lake.store, engine, config: cfg }
      );
      await runSilverToGold(
        { runId },
        { store: lake.store, engine, now: () => new Date(startedAt) }
      );
      return silver;
    });
  } finally {
    await warehouse.close();
  }
};

/** Rows of a lake table (`silver.<table>` through its manifest, `gold.<model>`), as the test says. */
const rowsOf = (name: string, select: string, order: string) =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('golden', async (ws) => {
      const [layer, table = ''] = name.split('.');
      if (layer === 'silver') {
        expect(await viewSilverTable({ store: lake.store, engine, ws }, table, 't')).toBe(true);
      } else {
        const local = ws.path('gold.parquet');
        await lake.store.download(Lake.goldModel(table), local);
        await engine.run(`create view t as select * from read_parquet(${quoteLiteral(local)})`);
      }
      return engine.all(`select ${select} from t order by ${order}`);
    })
  );

/** A hash of a table's rows, whatever the order or the file's layout. */
const contentHash = async (name: string) => {
  const [row] = await rowsOf(
    name,
    "md5(string_agg(to_json(t)::varchar, '\\n' order by to_json(t)::varchar)) as hash",
    '1'
  );
  return row?.hash;
};

const TABLES = [
  'silver.customer',
  'silver.dim_customers',
  'silver.orders',
  'silver.lineitem',
  'gold.sales_summary',
  'gold.customer_analytics',
  'gold.ml_features',
];
const hashes = async () => Promise.all(TABLES.map(contentHash));

beforeAll(async () => {
  process.env.TZ = 'UTC';
  lake = await startLocalLake();
  warehousePath = join(lake.dir, 'golden.duckdb');
  await source(`
    create table region (R_REGIONKEY bigint, R_NAME varchar);
    insert into region values (0, 'AMERICA'), (1, 'EUROPE');
    create table nation (N_NATIONKEY bigint, N_NAME varchar, N_REGIONKEY bigint);
    insert into nation values (1, 'CANADA', 0), (2, 'FRANCE', 1);
    create table part (P_PARTKEY bigint, P_TYPE varchar);
    insert into part values (1, 'STANDARD ANODIZED TIN'), (2, 'PROMO BRUSHED COPPER');
    create table customer (
      C_CUSTKEY bigint, C_NAME varchar, C_ADDRESS varchar, C_NATIONKEY bigint,
      C_PHONE varchar, C_ACCTBAL decimal(12, 2), C_MKTSEGMENT varchar
    );
    insert into customer values
      (1, 'Ann', '1 Main St', 1, '11-111', 100.00, 'BUILDING'),
      (2, 'Bob', '2 Rue', 2, '22-222', 200.00, 'MACHINERY'),
      (3, 'Cy', '3 Road', 1, '33-333', 300.00, 'HOUSEHOLD');
    create table orders (
      O_ORDERKEY bigint, O_CUSTKEY bigint, O_TOTALPRICE decimal(12, 2), O_ORDERDATE date
    );
    insert into orders values
      (101, 1, 150.00, date '2026-02-27'),
      (102, 2, 80.00, date '2026-02-28'),
      (103, 3, 40.00, date '2026-02-28');
    create table lineitem (
      L_ORDERKEY bigint, L_LINENUMBER bigint, L_PARTKEY bigint, L_QUANTITY decimal(12, 2),
      L_EXTENDEDPRICE decimal(12, 2), L_DISCOUNT decimal(12, 2)
    );
    insert into lineitem values
      (101, 1, 1, 1, 100.00, 0.00), (101, 2, 2, 1, 50.00, 0.00),
      (102, 1, 1, 2, 80.00, 0.00), (103, 1, 2, 1, 40.00, 0.00);
  `);
});

afterAll(async () => {
  await lake?.stop();
});

describe('golden dataset: three runs of history, late rows and a delete', () => {
  it('gives exactly the hand-checked history, soft delete and gold values, and reruns change nothing', async () => {
    // Act: day 1
    const day1 = await runDay('golden-1', T1);

    // Day 2: Bob moves (tracked), Ann's balance changes (untracked), Dee is new, order 104 is
    // new and order 105 arrives late, dated a day the orders watermark has already passed.
    await source(`
      update customer set C_ADDRESS = '9 Quai' where C_CUSTKEY = 2;
      update customer set C_ACCTBAL = 150.00 where C_CUSTKEY = 1;
      insert into customer values (4, 'Dee', '4 Lane', 2, '44-444', 0.00, 'BUILDING');
      insert into orders values (104, 1, 60.00, date '2026-03-01'), (105, 2, 30.00, date '2026-02-28');
      insert into lineitem values (104, 1, 2, 1, 60.00, 0.00), (105, 1, 1, 1, 30.00, 0.00);
    `);
    const day2 = await runDay('golden-2', T2);

    // Day 3: Cy is deleted, Bob changes segment, Dee orders.
    await source(`
      delete from customer where C_CUSTKEY = 3;
      update customer set C_MKTSEGMENT = 'AUTOMOBILE' where C_CUSTKEY = 2;
      insert into orders values (106, 4, 70.00, date '2026-03-02');
      insert into lineitem values (106, 1, 1, 1, 70.00, 0.10);
    `);
    const day3 = await runDay('golden-3', T3);

    // Assess: what each run did
    const counts = (result: BronzeToSilverResult) =>
      Object.fromEntries(
        result.datasets.map((d) => [d.entity, [d.rowsIn, d.rowsOut, d.rowsDeleted]])
      );
    expect(counts(day1)).toMatchObject({
      customer: [3, 3, 0],
      orders: [3, 3, 0],
      lineitem: [4, 4, 0],
    });
    // The lookback re-reads 101–103 with the new 104 and the late 105; line items from 103 on.
    expect(counts(day2)).toMatchObject({
      customer: [4, 4, 0],
      orders: [5, 5, 0],
      lineitem: [2, 6, 0],
    });
    // Orders from 2026-02-27 (the 2026-03-01 watermark less two days): all six.
    expect(counts(day3)).toMatchObject({
      customer: [3, 4, 1],
      orders: [6, 6, 0],
      lineitem: [1, 7, 0],
    });
    // Line items are partitioned by order key in pairs: day 2's 104 and 105 filled a new
    // partition and day 3's 106 another, so day 3 rewrote one file and kept day 1's and day 2's.
    const lineitem = (result: BronzeToSilverResult) =>
      result.datasets.find((d) => d.entity === 'lineitem');
    const manifest = await readSilverManifest(lake.store, 'lineitem');
    expect(
      manifest?.files.map((file) => [file.partition, /part-(golden-\d)-/.exec(file.key)?.[1]])
    ).toEqual([
      ['100', 'golden-1'],
      ['102', 'golden-1'],
      ['104', 'golden-2'],
      ['106', 'golden-3'],
    ]);
    expect(lineitem(day3)?.bytesWritten).toBe(manifest?.files[3]?.bytes);
    expect(lineitem(day3)?.bytesTotal).toBe(
      manifest?.files.reduce((sum, file) => sum + file.bytes, 0)
    );
    const history = (result: BronzeToSilverResult) =>
      result.datasets.find((d) => d.entity === 'customer')?.history;
    expect(history(day1)).toMatchObject({ versions: 3, current: 3, opened: 3, deleted: 0 });
    expect(history(day2)).toMatchObject({ versions: 5, current: 4, opened: 2, deleted: 0 });
    expect(history(day3)).toMatchObject({ versions: 6, current: 3, opened: 1, deleted: 1 });
    // The history is merge-on-read: what day 3 wrote is one file of those its manifest lists.
    const dimFiles = (await readSilverManifest(lake.store, 'dim_customers'))?.files ?? [];
    const dimWritten = dimFiles.filter((file) => file.key.includes('/part-golden-3-'));
    expect(dimWritten).toHaveLength(1);
    expect(history(day3)?.bytesWritten).toBe(dimWritten[0]?.bytes);
    expect(history(day3)?.bytesTotal).toBe(dimFiles.reduce((sum, file) => sum + file.bytes, 0));

    // The SCD2 history, version by version
    const dim = await rowsOf(
      'silver.dim_customers',
      `c_custkey, c_address, c_mktsegment, c_acctbal, strftime(valid_from, '%Y-%m-%d') as valid_from,
       strftime(valid_to, '%Y-%m-%d') as valid_to, is_current,
       strftime(_deleted_at, '%Y-%m-%d') as deleted_at`,
      'c_custkey, valid_from'
    );
    expect(dim).toEqual([
      row(1, '1 Main St', 'BUILDING', '150.00', '2026-03-01', null, true, null),
      row(2, '2 Rue', 'MACHINERY', '200.00', '2026-03-01', '2026-03-02', false, null),
      row(2, '9 Quai', 'MACHINERY', '200.00', '2026-03-02', '2026-03-03', false, null),
      row(2, '9 Quai', 'AUTOMOBILE', '200.00', '2026-03-03', null, true, null),
      row(3, '3 Road', 'HOUSEHOLD', '300.00', '2026-03-01', '2026-03-03', false, '2026-03-03'),
      row(4, '4 Lane', 'BUILDING', '0.00', '2026-03-02', null, true, null),
    ]);
    const [keys] = await rowsOf(
      'silver.dim_customers',
      'count(distinct customer_sk) as keys, count(*) filter (where customer_sk is null) as missing',
      '1'
    );
    expect(keys).toEqual({ keys: '6', missing: '0' });

    // The soft delete in the current table
    expect(
      await rowsOf(
        'silver.customer',
        "c_custkey, strftime(_deleted_at, '%Y-%m-%d') as deleted_at",
        'c_custkey'
      )
    ).toEqual([
      { c_custkey: '1', deleted_at: null },
      { c_custkey: '2', deleted_at: null },
      { c_custkey: '3', deleted_at: '2026-03-03' },
      { c_custkey: '4', deleted_at: null },
    ]);

    // Gold: sales by day, region and category (Cy's sale stays); analytics for live customers
    expect(
      await rowsOf(
        'gold.sales_summary',
        'order_date, region_name, category, count_orders, quantity, gross_sales, net_revenue',
        'order_date, region_name, category'
      )
    ).toEqual([
      sale('2026-02-27', 'AMERICA', 'PROMO', '1', '1.00', '50.00', '50.0000'),
      sale('2026-02-27', 'AMERICA', 'STANDARD', '1', '1.00', '100.00', '100.0000'),
      sale('2026-02-28', 'AMERICA', 'PROMO', '1', '1.00', '40.00', '40.0000'),
      sale('2026-02-28', 'EUROPE', 'STANDARD', '2', '3.00', '110.00', '110.0000'),
      sale('2026-03-01', 'AMERICA', 'PROMO', '1', '1.00', '60.00', '60.0000'),
      sale('2026-03-02', 'EUROPE', 'STANDARD', '1', '1.00', '70.00', '63.0000'),
    ]);
    expect(
      await rowsOf(
        'gold.customer_analytics',
        `customer_id, region, market_segment, segment, preferred_category, order_count,
         lifetime_value, average_order_value, recency_days, churn_probability`,
        'customer_id'
      )
    ).toEqual([
      // 2 orders 2 days apart, last 1 day before the latest order: 1 − e^(−1/2)
      analytics(1, 'AMERICA', 'BUILDING', 'loyal', 'PROMO', '2', '210.00', '105.00', '1', 0.3935),
      // 2 orders on one day (gap 0, taken as 1 day), silent for 2: 1 − e^(−2)
      analytics(
        2,
        'EUROPE',
        'AUTOMOBILE',
        'at_risk',
        'STANDARD',
        '2',
        '110.00',
        '55.00',
        '2',
        0.8647
      ),
      analytics(4, 'EUROPE', 'BUILDING', 'recent', 'STANDARD', '1', '70.00', '70.00', '0', 0),
    ]);

    // Rerunning day 3 on the same input changes no row and adds no version
    const before = await hashes();
    const again = await runDay('golden-3', T3);
    expect(await hashes()).toEqual(before);
    expect(history(again)).toMatchObject({ versions: 6, current: 3 });

    // …and so does rerunning bronze-to-silver alone on day 3's manifests
    await DuckDbEngine.use({}, (engine) =>
      runBronzeToSilver(
        {
          runId: 'golden-3',
          extracts: config().queries.map((query) => ({
            entity: query.name,
            manifestKey: Lake.bronzeManifest(query.name, 'golden-3'),
          })),
        },
        { store: lake.store, engine, config: config() }
      )
    );
    expect(await hashes()).toEqual(before);
  });
});

const row = (
  key: number,
  address: string,
  segment: string,
  balance: string,
  from: string,
  to: string | null,
  current: boolean,
  deleted: string | null
) => ({
  c_custkey: String(key),
  c_address: address,
  c_mktsegment: segment,
  c_acctbal: balance,
  valid_from: from,
  valid_to: to,
  is_current: current,
  deleted_at: deleted,
});

const sale = (
  day: string,
  region: string,
  category: string,
  orders: string,
  quantity: string,
  gross: string,
  net: string
) => ({
  order_date: day,
  region_name: region,
  category,
  count_orders: orders,
  quantity,
  gross_sales: gross,
  net_revenue: net,
});

const analytics = (
  id: number,
  region: string,
  marketSegment: string,
  segment: string,
  category: string,
  orders: string,
  value: string,
  average: string,
  recency: string,
  churn: number
) => ({
  customer_id: String(id),
  region,
  market_segment: marketSegment,
  segment,
  preferred_category: category,
  order_count: orders,
  lifetime_value: value,
  average_order_value: average,
  recency_days: recency,
  churn_probability: churn,
});
