import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { quoteIdentifier, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import type { FlatColumn } from '@strata/core/flatten';
import { type GeneratedBacklog, generateBacklog, writeEventLines } from '@strata/local/backlog';
import { beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from './support/lake.js';
import { useEmbeddedRuntime, withCatalogAndSilver } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);
const FEED = 'payments';
const PREFIX = `raw/${FEED}/all_historical_files/`;
let backlog: GeneratedBacklog;

interface Report {
  batches: { succeeded: number; failed: number; pending: number; keyPass: number };
  recordsRead: number;
  rowsWritten: number;
  recordsQuarantined: number;
  table: { name: string; change: string };
}

const reportOf = (outcome: unknown): Report =>
  (outcome as { output: { reconcile: { report: Report } } }).output.reconcile.report;

/** The lineage columns every silver row carries beside the flattened ones. */
const LINEAGE = ['_variant', '_source_key', '_source_line', '_batch_id'];

beforeAll(async () => {
  backlog = await generateBacklog({
    store: suite.runtime.store,
    targetBytes: 1024 * 1024,
    seed: 9,
    feeds: [FEED],
  });
});

describe('backfill state machine (embedded runtime, Distributed Map emulated)', () => {
  it('flattens the whole backlog and reconciles with what was generated', async () => {
    // Prepare
    const truth = backlog.objects.filter((object) => object.key.startsWith(PREFIX));

    // Act
    const outcome = await suite.runtime.execute('backfill', {
      executionName: 'backfill-1',
      input: { feed: FEED, prefix: PREFIX },
    });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const report = reportOf(outcome);
    expect(report.batches.failed + report.batches.pending).toBe(0);
    // Most batches are written in one read; those whose sample missed a key list keys first.
    expect(report.batches.keyPass).toBeLessThan(report.batches.succeeded / 2);
    expect(report.rowsWritten).toBe(truth.reduce((sum, o) => sum + o.records, 0));
    expect(report.recordsQuarantined).toBe(truth.reduce((sum, o) => sum + o.malformed, 0));
    const ledger = await suite.runtime.ledger.getMany(truth.map((object) => object.key));
    expect([...ledger.values()].filter((entry) => entry.status !== 'SUCCEEDED')).toEqual([]);
    expect(await keysUnder(suite.runtime.store, PREFIX)).toEqual([]);
    expect(await keysUnder(suite.runtime.store, `_schemas/${FEED}/schema.json`)).toHaveLength(1);
    expect(report.table).toEqual({ name: `silver.${FEED}`, change: 'created' });
  });

  it('leaves a catalog view that returns exactly the rows written, with the merged schema', async () => {
    // Prepare
    const schema = JSON.parse(
      new TextDecoder().decode(await suite.runtime.store.get(`_schemas/${FEED}/schema.json`))
    ) as { columns: FlatColumn[] };
    const columns = [...schema.columns.map((column) => column.name), ...LINEAGE];
    const written = backlog.objects.filter((object) => object.key.startsWith(PREFIX));

    // Act
    const { described, missing, extra, rows, misplaced } = await withCatalogAndSilver(
      suite,
      FEED,
      async (engine, silver) => {
        const view = `catalog.silver.${quoteIdentifier(FEED)}`;
        // Every value as text, so the comparison sees values, not the engines' types.
        const text = columns.map((c) => `cast(${quoteIdentifier(c)} as varchar)`).join(', ');
        const difference = (from: string, minus: string) =>
          engine.scalarNumber(
            `select count(*) from (select ${text} from ${from} except all select ${text} from ${minus})`
          );
        return {
          described: await engine.all(`describe ${view}`),
          missing: await difference(silver, view),
          extra: await difference(view, silver),
          rows: await engine.scalarNumber(`select count(*) from ${view}`),
          // The partition columns, read from the object paths, agree with the record's fields.
          misplaced: await engine.scalarNumber(
            `select count(*) from ${view}
             where year || '-' || month || '-' || day is distinct from strftime(try_cast(date as date), '%Y-%m-%d')
                or mode is distinct from mode_2`
          ),
        };
      }
    );

    // Assess
    expect(described.map((row) => row.column_name)).toEqual([
      ...columns,
      'year',
      'month',
      'day',
      // The feed's MODE field is the data column mode_2: flatten-batch keeps partition names free.
      'mode',
    ]);
    expect(rows).toBe(written.reduce((sum, object) => sum + object.records, 0));
    expect(missing).toBe(0);
    expect(extra).toBe(0);
    expect(misplaced).toBe(0);
  });

  it('finds nothing left to do when the backfill runs again', async () => {
    // Act
    const outcome = await suite.runtime.execute('backfill', {
      executionName: 'backfill-2',
      input: { feed: FEED, prefix: PREFIX },
    });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(reportOf(outcome)).toMatchObject({
      batches: { succeeded: 0, failed: 0, pending: 0 },
      rowsWritten: 0,
      table: { name: `silver.${FEED}`, change: 'unchanged' },
    });
  });
});

describe('backfill of a feed with an exploded array (config: clickstream explodes payload.items)', () => {
  /** Elements of payload.items in every well-formed record under the prefix, counted in Node. */
  const itemsIn = async (prefix: string): Promise<number> => {
    let count = 0;
    const add = (record: unknown) => {
      const items = (record as { payload?: { items?: unknown } }).payload?.items;
      if (Array.isArray(items)) count += items.length;
    };
    for (const key of await keysUnder(suite.runtime.store, prefix)) {
      let body = Buffer.from((await suite.runtime.store.get(key)) ?? new Uint8Array());
      if (key.endsWith('.gz')) {
        try {
          body = gunzipSync(body);
        } catch {
          continue; // the truncated gzip: quarantined whole
        }
      }
      const text = body.toString('utf8').trim();
      if (text.startsWith('[')) for (const record of JSON.parse(text) as unknown[]) add(record);
      else {
        for (const line of text.split('\n')) {
          try {
            add(JSON.parse(line));
          } catch {
            // a malformed line: quarantined
          }
        }
      }
    }
    return count;
  };

  it('writes one child row per element, in a catalog table of its own', async () => {
    // Prepare
    const prefix = 'raw/clickstream/all_historical_files/';
    await generateBacklog({
      store: suite.runtime.store,
      targetBytes: 512 * 1024,
      seed: 4,
      feeds: ['clickstream'],
    });
    const items = await itemsIn(prefix);

    // Act
    const outcome = await suite.runtime.execute('backfill', {
      executionName: 'backfill-clicks',
      input: { feed: 'clickstream', prefix },
    });

    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const { children } = (outcome as { output: { reconcile: { report: { children: unknown[] } } } })
      .output.reconcile.report;
    expect(children).toEqual([
      {
        dataset: 'clickstream__payload_items',
        rowsWritten: items,
        schemaKey: '_schemas/clickstream__payload_items/schema.json',
        table: { name: 'silver.clickstream__payload_items', change: 'created' },
      },
    ]);
    const [row] = await DuckDbEngine.use({}, async (engine) => {
      await engine.run(
        `attach ${quoteLiteral(join(suite.dir, 'catalog.duckdb'))} as catalog (read_only)`
      );
      return engine.all(
        'select count(*) as n, count(sku) as skus, min(_index) as first from catalog.silver.clickstream__payload_items'
      );
    });
    expect(row).toEqual({ n: String(items), skus: String(items), first: '1' });
  });
});

describe('backfill of an object larger than a batch (planned in byte ranges)', () => {
  it('reads every record once across its ranges, moves it when all are done, and does nothing again', async () => {
    // Prepare: some 600 KB of JSON lines against 200 KiB batches
    const key = 'raw/devices/large/devices-large.jsonl';
    const local = join(suite.dir, 'devices-large.jsonl');
    const written = await writeEventLines({
      path: local,
      targetBytes: 600 * 1024,
      feed: 'devices',
    });
    await suite.runtime.store.upload(key, local);
    const input = { feed: 'devices', prefix: 'raw/devices/large/', targetBatchBytes: 200 * 1024 };

    // Act
    const first = await suite.runtime.execute('backfill', { executionName: 'ranges-1', input });
    const again = await suite.runtime.execute('backfill', { executionName: 'ranges-2', input });

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(reportOf(first)).toMatchObject({
      batches: { succeeded: Math.ceil(written.bytes / (200 * 1024)), failed: 0, pending: 0 },
      recordsRead: written.records,
      rowsWritten: written.records,
    });
    expect(await keysUnder(suite.runtime.store, 'raw/devices/large/')).toEqual([]);
    expect(await keysUnder(suite.runtime.store, 'raw-processed/devices/large/')).toEqual([
      'raw-processed/devices/large/devices-large.jsonl',
    ]);
    expect((await suite.runtime.ledger.getMany([key])).get(key)?.status).toBe('SUCCEEDED');
    expect(reportOf(again)).toMatchObject({ batches: { succeeded: 0 }, rowsWritten: 0 });
  });
});

describe('backfill whose batches type a new field differently', () => {
  it('leaves every silver file with the type its catalog column has, as Athena needs', async () => {
    // Prepare: two objects, one batch each; `reading` holds integers in one, decimals in the other
    const prefix = 'raw/devices/widen/';
    let expected = 0;
    for (const [name, reading] of [
      ['integers', (i: number) => i],
      ['decimals', (i: number) => i + 0.25],
    ] as const) {
      const local = join(suite.dir, `devices-${name}.jsonl`);
      await writeEventLines({ path: local, targetBytes: 150 * 1024, feed: 'devices', seed: 3 });
      const { readFile, writeFile } = await import('node:fs/promises');
      const lines = (await readFile(local, 'utf8')).split('\n').filter((line) => line !== '');
      const records = lines.map((line, i) => ({ ...JSON.parse(line), reading: reading(i) }));
      expected += records.reduce((total, _, i) => total + reading(i), 0);
      await writeFile(local, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      await suite.runtime.store.upload(`${prefix}${name}.jsonl`, local);
    }
    const input = { feed: 'devices', prefix, targetBatchBytes: 200 * 1024 };

    // Act
    const outcome = await suite.runtime.execute('backfill', { executionName: 'widen-1', input });

    // Assess: the catalog says DOUBLE, and so does every file that holds the column
    expect(outcome.status).toBe('SUCCEEDED');
    expect(reportOf(outcome).batches.succeeded).toBe(2);
    const { types, catalogType, sum } = await withCatalogAndSilver(
      suite,
      'devices',
      async (engine, silver) => {
        const files = silver.slice(silver.indexOf('[') + 1, silver.lastIndexOf(']'));
        const fileTypes = await engine.all(
          `select distinct type from parquet_schema([${files}]) where name = 'reading'`
        );
        const [column] = await engine.all(
          "select data_type from duckdb_columns() where database_name = 'catalog' and schema_name = 'silver' and table_name = 'devices' and column_name = 'reading'"
        );
        const [total] = await engine.all(
          `select sum(reading) as s from ${silver} where _source_key like '%/widen/%'`
        );
        return {
          types: fileTypes.map((row) => String(row.type)),
          catalogType: String(column?.data_type),
          sum: Number(total?.s),
        };
      }
    );
    expect(catalogType).toBe('DOUBLE');
    expect(types).toEqual(['DOUBLE']);
    expect(sum).toBeCloseTo(expected, 6);
  });
});
