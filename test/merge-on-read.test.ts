import { join } from 'node:path';
import { DuckDbWarehouse } from '@strata/core/adapters';
import { type BronzeToSilverResult, runBronzeToSilver } from '@strata/core/bronze-to-silver';
import { configSchema, parseOrThrow, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import { runExtract } from '@strata/core/extract';
import {
  readSilverManifest,
  SILVER_SEQ,
  silverManifestKey,
  viewSilverTable,
} from '@strata/core/lake';
import type { Catalog, ObjectStore } from '@strata/core/ports';
import { DuckDbCatalog } from '@strata/local/catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder, snapshot } from './support/lake.js';
import { type LocalLake, startLocalLake } from './support/localLake.js';

/*
 * Merge-on-read for a full-refresh dimension and its SCD2 history: lake A runs as the pipeline
 * does (a run writes a delta of the rows it changed), lake B goes through the same days but
 * every run rewrites the whole table (its manifests are stripped of their merge state first, as
 * a table from before merge-on-read), so B's silver is what a full rewrite gives.
 */

const CUSTOMERS = 20_000;
let a: LocalLake;
let b: LocalLake;
let warehousePath: string;
let catalog: DuckDbCatalog;

const config = () =>
  parseOrThrow(
    configSchema,
    {
      source_system: 'mor',
      warehouse: { type: 'duckdb', path: warehousePath, database: 'src' },
      queries: [
        {
          name: 'customer',
          sql: 'select * from src.customer',
          primary_key: ['C_CUSTKEY'],
          history: {
            table: 'dim_customers',
            surrogate_key: 'customer_sk',
            tracked: ['C_NAME', 'C_ADDRESS'],
          },
        },
      ],
    },
    'config'
  );

const source = (sql: string) =>
  DuckDbEngine.use({ path: warehousePath }, (engine) => engine.run(sql));

/** Extract and bronze-to-silver of one day in `lake`, through `store` (the lake's by default). */
const runDay = async (
  lake: LocalLake,
  runId: string,
  startedAt: string,
  store: ObjectStore = lake.store,
  lakeCatalog: Catalog = catalog
): Promise<BronzeToSilverResult> => {
  const cfg = config();
  if (lake === b) {
    // The reference lake: every run rewrites the whole table, as before merge-on-read.
    for (const table of ['customer', 'dim_customers']) {
      const manifest = await readSilverManifest(b.store, table);
      if (!manifest?.merge) continue;
      const { merge: _merge, ...whole } = manifest;
      await b.store.put(silverManifestKey(table), JSON.stringify(whole));
    }
  }
  const warehouse = new DuckDbWarehouse({ path: warehousePath, database: 'src' });
  try {
    return await DuckDbEngine.use({}, async (engine) => {
      const extract = await runExtract(
        { entity: 'customer', runId, runDate: startedAt.slice(0, 10), runStartedAt: startedAt },
        { store: lake.store, warehouse, engine, config: cfg, watermarks: lake.watermarks }
      );
      return runBronzeToSilver(
        { runId, extracts: [extract] },
        { store, engine, config: cfg, ...(lake === a ? { catalog: lakeCatalog } : {}) }
      );
    });
  } finally {
    await warehouse.close();
  }
};

/** Runs a day in both lakes and returns lake A's result. */
const runBoth = async (runId: string, startedAt: string) => {
  await runDay(b, runId, startedAt);
  return runDay(a, runId, startedAt);
};

/** A hash of a silver table's rows as its readers see them, whatever its files. */
const contentHash = (lake: LocalLake, table: string) =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('mor', async (ws) => {
      expect(await viewSilverTable({ store: lake.store, engine, ws }, table, 't')).toBe(true);
      const [row] = await engine.all(
        `select count(*) as n, md5(string_agg(to_json(t)::varchar, '\\n' order by to_json(t)::varchar)) as hash from t`
      );
      return { rows: Number(row?.n), hash: String(row?.hash) };
    })
  );

/** Rows of the local catalog's view, as a data engineer queries it. */
const catalogRows = (sql: string) =>
  DuckDbEngine.use({}, async (engine) => {
    await engine.run(`attach ${quoteLiteral(join(a.dir, 'catalog.duckdb'))} as lake (read_only)`);
    await engine.run('use lake');
    return engine.all(sql);
  });

const expectSameAsFullRewrite = async () => {
  for (const table of ['customer', 'dim_customers']) {
    expect(await contentHash(a, table)).toEqual(await contentHash(b, table));
  }
};

/** Each file's rows with their key and sequence, straight from the files. */
const versions = (lake: LocalLake, table: string, key: string) =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('mor-files', async (ws) => {
      const manifest = await readSilverManifest(lake.store, table);
      const locals: string[] = [];
      for (const file of manifest?.files ?? []) {
        const local = ws.path(`${locals.length}.parquet`);
        await lake.store.download(file.key, local);
        locals.push(quoteLiteral(local));
      }
      return engine.all(
        `select ${key} as k, ${SILVER_SEQ} as seq, count(*) as n
         from read_parquet([${locals.join(', ')}]) group by all having count(*) > 1`
      );
    })
  );

beforeAll(async () => {
  process.env.TZ = 'UTC';
  [a, b] = await Promise.all([startLocalLake(), startLocalLake()]);
  warehousePath = join(a.dir, 'src.duckdb');
  catalog = new DuckDbCatalog({
    path: join(a.dir, 'catalog.duckdb'),
    lakeDirectory: join(a.dir, 's3', 'test-lake'),
    schema: 'silver',
  });
  await source(`
    create table customer as
    select range as C_CUSTKEY, 'Customer#' || md5(range::varchar) as C_NAME, range || ' Main St' as C_ADDRESS,
      ['BUILDING', 'MACHINERY'][range % 2 + 1] as C_MKTSEGMENT
    from range(1, ${CUSTOMERS + 1})`);
  await runBoth('mor-1', '2026-04-01T06:00:00.000Z');
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('merge-on-read silver', () => {
  it('writes a delta of the changed rows only, and reads back what a full rewrite gives', async () => {
    // Prepare: a tracked change, an untracked one, a delete and a new customer
    await source(`
      update customer set C_ADDRESS = '5 New Rd' where C_CUSTKEY = 5;
      update customer set C_MKTSEGMENT = 'HOUSEHOLD' where C_CUSTKEY = 6;
      delete from customer where C_CUSTKEY = 7;
      insert into customer values (${CUSTOMERS + 1}, 'Newcomer', '1 First St', 'BUILDING');`);

    // Act
    const result = await runBoth('mor-2', '2026-04-02T06:00:00.000Z');

    // Assess: a delta of 4 customers and 5 versions (5 closed and opened, 6 updated in place,
    // 7 closed by its delete, the newcomer opened), beside each table's base
    const [customer] = result.datasets;
    expect(customer).toMatchObject({ rowsOut: CUSTOMERS + 1, rowsDeleted: 1 });
    expect(customer?.bytesWritten).toBeLessThan(0.05 * (customer?.bytesTotal ?? 0));
    expect(customer?.history?.bytesWritten).toBeLessThan(
      0.05 * (customer?.history?.bytesTotal ?? 0)
    );
    const files = async (table: string) =>
      (await readSilverManifest(a.store, table))?.files.map((file) => [
        file.delta ?? false,
        file.rows,
      ]);
    expect(await files('customer')).toEqual([
      [false, CUSTOMERS],
      [true, 4],
    ]);
    expect(await files('dim_customers')).toEqual([
      [false, CUSTOMERS],
      [true, 5],
    ]);
    await expectSameAsFullRewrite();
    // The local catalog's views read the latest version of each row, as Athena's do.
    expect(
      await catalogRows(
        `select count(*) as n, count(distinct c_custkey) as keys,
           max(c_address) filter (where c_custkey = 5) as moved,
           count(*) filter (where _deleted_at is not null) as deleted
         from silver.customer`
      )
    ).toEqual([
      { n: `${CUSTOMERS + 1}`, keys: `${CUSTOMERS + 1}`, moved: '5 New Rd', deleted: '1' },
    ]);
    expect(
      await catalogRows(
        `select count(*) as versions, count(*) filter (where is_current) as current
         from silver.dim_customers`
      )
    ).toEqual([{ versions: `${CUSTOMERS + 2}`, current: `${CUSTOMERS}` }]);
  });

  it('writes nothing when nothing changed, and nothing more when a run is redriven', async () => {
    // Prepare
    const before = await snapshot(a.store, 'silver/');

    // Act: day 2 again, then a day on which the source did not change
    const redriven = await runDay(a, 'mor-2', '2026-04-02T06:00:00.000Z');
    const quiet = await runBoth('mor-3', '2026-04-03T06:00:00.000Z');

    // Assess
    for (const result of [redriven, quiet]) {
      expect(result.datasets[0]).toMatchObject({ rowsOut: CUSTOMERS + 1, bytesWritten: 0 });
      expect(result.datasets[0]?.history?.bytesWritten).toBe(0);
    }
    expect(await snapshot(a.store, 'silver/')).toEqual(before);
    expect(await versions(a, 'customer', 'c_custkey')).toEqual([]);
    expect(await versions(a, 'dim_customers', 'customer_sk')).toEqual([]);
    await expectSameAsFullRewrite();
  });

  it('shows no change when a run dies between writing its delta and publishing it, and its retry publishes it', async () => {
    // Prepare: a changed customer, and a lake that fails the manifest's PUT
    await source(`update customer set C_ADDRESS = '8 Other Ave' where C_CUSTKEY = 8`);
    const before = await contentHash(a, 'customer');
    const failing = new Proxy(a.store, {
      get: (target, property, receiver) =>
        property === 'put'
          ? async (key: string) => {
              throw new Error(`injected: PUT ${key} lost`);
            }
          : // Bound to the store itself, whose private fields a proxy does not have.
            Reflect.get(target, property, receiver).bind(target),
    });
    const files = (await keysUnder(a.store, 'silver/customer/')).length;

    // Act
    await expect(runDay(a, 'mor-4', '2026-04-04T06:00:00.000Z', failing)).rejects.toThrow(
      'injected'
    );

    // Assess: the delta is in the lake, and no reader sees it
    expect((await keysUnder(a.store, 'silver/customer/')).length).toBe(files + 1);
    expect(await contentHash(a, 'customer')).toEqual(before);
    const address = `select c_address from silver.customer where c_custkey = 8`;
    expect(await catalogRows(address)).toEqual([{ c_address: '8 Main St' }]);

    // Act: the retry
    await runBoth('mor-4', '2026-04-04T06:00:00.000Z');

    // Assess
    expect(await catalogRows(address)).toEqual([{ c_address: '8 Other Ave' }]);
    await expectSameAsFullRewrite();
  });

  it('brings the catalog up to date when the retry of a run that died before it has nothing to write', async () => {
    // Prepare: a changed customer, and a catalog that is down
    await source(`update customer set C_ADDRESS = '9 Late Ln' where C_CUSTKEY = 9`);
    const down: Catalog = {
      upsertTable: async () => {
        throw new Error('injected: catalog down');
      },
    };
    const address = `select c_address from silver.customer where c_custkey = 9`;

    // Act: the run publishes its manifest, then fails on the catalog
    await expect(runDay(a, 'mor-5', '2026-04-05T06:00:00.000Z', a.store, down)).rejects.toThrow(
      'injected'
    );

    // Assess: silver has the change, the catalog's view the files before it
    expect(await catalogRows(address)).toEqual([{ c_address: '9 Main St' }]);

    // Act: the retry, which finds nothing to write
    const [retried] = (await runBoth('mor-5', '2026-04-05T06:00:00.000Z')).datasets;

    // Assess
    expect(retried?.bytesWritten).toBe(0);
    expect(await catalogRows(address)).toEqual([{ c_address: '9 Late Ln' }]);
    await expectSameAsFullRewrite();
  });

  it('folds the deltas into a new base once they would pass a fifth of it', async () => {
    // Prepare: a day that moves a third of the customers
    await source(`update customer set C_ADDRESS = C_ADDRESS || ' Apt 2' where C_CUSTKEY % 3 = 0`);

    // Act
    const result = await runBoth('mor-6', '2026-04-06T06:00:00.000Z');

    // Assess: one base file each, every earlier file superseded and deleted
    const [customer] = result.datasets;
    expect(customer?.bytesWritten).toBe(customer?.bytesTotal);
    for (const table of ['customer', 'dim_customers']) {
      const manifest = await readSilverManifest(a.store, table);
      expect(manifest?.files.map((file) => file.delta ?? false)).toEqual([false]);
      expect(
        (await keysUnder(a.store, `silver/${table}/`)).filter((key) => key.endsWith('.parquet'))
      ).toEqual(manifest?.files.map((file) => file.key));
    }
    await expectSameAsFullRewrite();
    expect(
      await catalogRows(
        'select count(*) as n, count(distinct c_custkey) as keys from silver.customer'
      )
    ).toEqual([{ n: `${CUSTOMERS + 1}`, keys: `${CUSTOMERS + 1}` }]);
  });
});
