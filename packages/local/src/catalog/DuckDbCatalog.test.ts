import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import { ErrorName } from '@strata/core/errors';
import { writeParquetObject } from '@strata/core/lake';
import type { TableDefinition } from '@strata/core/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { catalogContract } from '../../../core/src/ports/catalogContract.js';
import { DuckDbCatalog } from './DuckDbCatalog.js';

let lake: LocalLake;
let catalogPath: string;
let catalog: DuckDbCatalog;

/** Writes one Parquet object into the local lake, through s3rver, as FlattenBatch does. */
const putParquet = (key: string, query: string) =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('catalog-test', (ws) =>
      writeParquetObject({ engine, ws, store: lake.store }, query, key)
    )
  );

/** Runs a query against the catalog file, as a data engineer's `duckdb` shell would. */
const query = (sql: string) => DuckDbEngine.use({ path: catalogPath }, (engine) => engine.all(sql));

const events: TableDefinition = {
  table: 'events',
  location: 'silver/events/',
  columns: [
    { name: 'user_id', type: 'BIGINT', comment: '$."user"."id"' },
    { name: 'mode', type: 'VARCHAR' },
    { name: 'tags', type: 'JSON' },
    { name: 'device', type: 'VARCHAR' },
    { name: 'legacy', type: 'DOUBLE' },
    { name: '_variant', type: 'JSON' },
  ],
  partitionKeys: [
    { key: 'year', values: [] },
    { key: 'mode', values: [] },
  ],
};

beforeAll(async () => {
  lake = await startLocalLake();
  catalogPath = join(lake.dir, 'catalog.duckdb');
  catalog = new DuckDbCatalog({
    path: catalogPath,
    lakeDirectory: join(lake.dir, 's3', 'test-lake'),
    schema: 'silver',
  });
  await putParquet(
    'silver/events/year=2024/mode=web/part-b1-00000.parquet',
    `select 1::bigint as user_id, 'we b' as mode, '["a"]'::json as tags, '{"user_id":"x"}'::json as _variant`
  );
  // A later batch: a new column, and a record with no date or mode (the null partition).
  await putParquet(
    'silver/events/year=__HIVE_DEFAULT_PARTITION__/mode=__HIVE_DEFAULT_PARTITION__/part-b2-00000.parquet',
    `select 2::bigint as user_id, null::varchar as mode, null::json as tags, 'ios' as device, null::json as _variant`
  );
});

afterAll(async () => {
  await lake?.stop();
});

describe('Class: DuckDbCatalog', () => {
  describe('Method: upsertTable', () => {
    it('makes a view over s3rver’s object files with catalog types and partitions from the path', async () => {
      // Act
      const table = await catalog.upsertTable(events);

      // Assess
      expect(table).toMatchObject({ name: 'silver.events', change: 'created' });
      expect(table.partitionColumns).toEqual(['year', 'mode_partition']);
      const rows = await query('select * from silver.events order by user_id');
      expect(rows).toEqual([
        {
          user_id: '1',
          mode: 'we b',
          tags: '["a"]',
          device: null,
          legacy: null,
          _variant: '{"user_id":"x"}',
          year: '2024',
          mode_partition: 'web',
        },
        {
          user_id: '2',
          mode: null,
          tags: null,
          device: 'ios',
          legacy: null,
          _variant: null,
          year: null,
          mode_partition: null,
        },
      ]);
      const types = await query('describe silver.events');
      expect(types.map((row) => [row.column_name, row.column_type])).toEqual([
        ['user_id', 'BIGINT'],
        ['mode', 'VARCHAR'],
        ['tags', 'VARCHAR'],
        ['device', 'VARCHAR'],
        ['legacy', 'DOUBLE'],
        ['_variant', 'VARCHAR'],
        ['year', 'VARCHAR'],
        ['mode_partition', 'VARCHAR'],
      ]);
      const comments = await query(
        "select column_name, comment from duckdb_columns() where table_name = 'events' and comment is not null"
      );
      expect(comments).toEqual([{ column_name: 'user_id', comment: '$."user"."id"' }]);
    });

    it('gives every column of a wide table its path, over more than one commit of comments', async () => {
      // Prepare: 250 columns, so their comments span three commits
      const width = 250;
      const names = Array.from({ length: width }, (_, i) => `c${i}`);
      await putParquet(
        'silver/wide/part-b1-00000.parquet',
        `select ${names.map((name, i) => `${i}::bigint as ${name}`).join(', ')}`
      );
      const wide: TableDefinition = {
        table: 'wide',
        location: 'silver/wide/',
        columns: names.map((name) => ({ name, type: 'BIGINT', comment: `$."a"."${name}"` })),
        partitionKeys: [],
      };

      // Act
      const first = await catalog.upsertTable(wide);
      const again = await catalog.upsertTable(wide);

      // Assess
      expect([first.change, again.change]).toEqual(['created', 'unchanged']);
      const comments = await query(
        "select column_name, comment from duckdb_columns() where table_name = 'wide' and comment is not null"
      );
      expect(comments).toHaveLength(width);
      expect(comments[width - 1]).toEqual({ column_name: 'c249', comment: '$."a"."c249"' });
      expect(await query('select c0, c249 from silver.wide')).toEqual([{ c0: '0', c249: '249' }]);
    });

    it('types LIST and MAP columns as DuckDB lists and maps, null where a part lacks them', async () => {
      // Prepare: a part with the columns, and one written before they existed.
      await putParquet(
        'silver/hooks/year=2024/mode=web/part-b1-00000.parquet',
        `select ['a', 'b'] as labels, map {'u1': 2} as stars, [1]::bigint[] as _parent_index`
      );
      await putParquet(
        'silver/hooks/year=2024/mode=web/part-b0-00000.parquet',
        `select 'old' as note`
      );

      // Act
      await catalog.upsertTable({
        table: 'hooks',
        location: 'silver/hooks/',
        columns: [
          { name: 'labels', type: 'VARCHAR[]' },
          { name: 'stars', type: 'MAP(VARCHAR, BIGINT)' },
          { name: '_parent_index', type: 'BIGINT[]' },
          { name: 'note', type: 'VARCHAR' },
        ],
        partitionKeys: [
          { key: 'year', values: [] },
          { key: 'mode', values: [] },
        ],
      });

      // Assess
      const types = await query('describe silver.hooks');
      expect(types.slice(0, 3).map((row) => [row.column_name, row.column_type])).toEqual([
        ['labels', 'VARCHAR[]'],
        ['stars', 'MAP(VARCHAR, BIGINT)'],
        ['_parent_index', 'BIGINT[]'],
      ]);
      const rows = await query(
        `select labels, stars['u1']::int as star, note from silver.hooks order by note nulls first`
      );
      expect(rows).toEqual([
        { labels: ['a', 'b'], star: 2, note: null },
        { labels: null, star: null, note: 'old' },
      ]);
    });

    it('sees objects written after the upsert without another upsert', async () => {
      // Prepare
      await catalog.upsertTable(events);
      const before = await query('select count(*) as n from silver.events');

      // Act
      await putParquet(
        'silver/events/year=2025/mode=app/part-b3-00000.parquet',
        'select 3::bigint as user_id'
      );

      // Assess
      const after = await query('select count(*) as n from silver.events');
      expect(Number(after[0]?.n)).toBe(Number(before[0]?.n) + 1);
    });

    it('answers Strata.Transient while another process holds the catalog file', async () => {
      // Prepare: a second process opens the file for writing and keeps it open
      const holder = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { DuckDBInstance } from '@duckdb/node-api';
           const db = await DuckDBInstance.create(${JSON.stringify(catalogPath)});
           await db.connect();
           console.log('open');
           process.stdin.on('end', () => process.exit(0)).resume();`,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] }
      );
      await once(holder.stdout, 'data');

      // Act
      const attempt = catalog.upsertTable(events);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: ErrorName.Transient,
        message: expect.stringContaining(catalogPath),
      });
      holder.stdin.end();
      await once(holder, 'exit');
    });
  });
});

describe('Class: DuckDbCatalog (contract)', () => {
  catalogContract(
    'DuckDbCatalog on a catalog file',
    () =>
      new DuckDbCatalog({
        path: join(lake.dir, 'contract.duckdb'),
        lakeDirectory: join(lake.dir, 's3', 'test-lake'),
        schema: 'silver',
      })
  );
});
