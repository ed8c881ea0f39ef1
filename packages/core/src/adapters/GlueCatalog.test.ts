import {
  AccessDeniedException,
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateTableCommand,
  type CreateTableCommandInput,
  EntityNotFoundException,
  GetTableCommand,
  GlueClient,
  InternalServiceException,
  OperationTimeoutException,
  type Table,
  ThrottlingException,
  UpdateTableCommand,
  type UpdateTableCommandInput,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/index.js';
import { ErrorName } from '../errors/index.js';
import { catalogContract } from '../ports/catalogContract.js';
import type { TableDefinition } from '../ports/index.js';
import { GlueCatalog } from './GlueCatalog.js';

const mock = mockClient(GlueClient);
const meta = { $metadata: { httpStatusCode: 400 } };

const newCatalog = (attempts?: number) =>
  new GlueCatalog({
    attempts,
    database: 'strata_dev',
    bucket: 'strata-dev-lake',
    client: new GlueClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  });

const clickstream: TableDefinition = {
  table: 'clickstream',
  location: 'silver/clickstream/',
  columns: [
    { name: 'user_id', type: 'BIGINT', comment: '$."user"."id"' },
    { name: 'amount', type: 'DOUBLE' },
    { name: 'is_bot', type: 'BOOLEAN' },
    { name: 'mode', type: 'VARCHAR' },
    { name: 'tags', type: 'JSON' },
  ],
  partitionKeys: [
    { key: 'year', values: ['2024', '__HIVE_DEFAULT_PARTITION__'] },
    { key: 'month', values: ['01'] },
    { key: 'day', values: ['05', '31'] },
    { key: 'mode', values: ['web'] },
  ],
};

/** The table CreateTable receives for {@link clickstream}. */
const clickstreamInput = {
  Name: 'clickstream',
  TableType: 'EXTERNAL_TABLE',
  Parameters: {
    EXTERNAL: 'TRUE',
    classification: 'parquet',
    'projection.enabled': 'true',
    'storage.location.template':
      // Athena's placeholders, not JavaScript's.
      `s3://strata-dev-lake/silver/clickstream/year=\${year}/month=\${month}/day=\${day}/mode=\${mode_partition}/`,
    'projection.year.type': 'enum',
    'projection.year.values': '2024,__HIVE_DEFAULT_PARTITION__',
    'projection.month.type': 'enum',
    'projection.month.values': '01',
    'projection.day.type': 'enum',
    'projection.day.values': '05,31',
    'projection.mode_partition.type': 'enum',
    'projection.mode_partition.values': 'web',
  },
  PartitionKeys: [
    { Name: 'year', Type: 'string' },
    { Name: 'month', Type: 'string' },
    { Name: 'day', Type: 'string' },
    { Name: 'mode_partition', Type: 'string' },
  ],
  StorageDescriptor: {
    Location: 's3://strata-dev-lake/silver/clickstream/',
    InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    SerdeInfo: {
      SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      Parameters: { 'serialization.format': '1' },
    },
    Columns: [
      // The column's JSON path, for Athena users to see beside its name.
      { Name: 'user_id', Type: 'bigint', Comment: '$."user"."id"' },
      { Name: 'amount', Type: 'double' },
      { Name: 'is_bot', Type: 'boolean' },
      { Name: 'mode', Type: 'string' },
      { Name: 'tags', Type: 'string' },
    ],
  },
};

/** A merge-on-read dimension: its files carry each version's sequence. */
const customer: TableDefinition = {
  table: 'customer',
  location: 'silver/customer/',
  columns: [
    { name: 'c_custkey', type: 'BIGINT' },
    { name: 'c_name', type: 'VARCHAR' },
    { name: '_silver_seq', type: 'BIGINT' },
  ],
  partitionKeys: [],
};

/** The TableInput a fresh catalog creates for `definition`. */
const inputOf = async (definition: TableDefinition) => {
  mock.reset();
  mock.on(GetTableCommand).rejects(new EntityNotFoundException({ ...meta, message: 'none' }));
  mock.on(CreateTableCommand).resolves({});
  await newCatalog().upsertTable(definition);
  const [call] = mock.commandCalls(CreateTableCommand);
  mock.reset();
  return call?.args[0].input.TableInput;
};

/**
 * What GetTable answers for a table created from `input`: Glue adds read-only fields and its
 * own storage defaults.
 */
const asStored = (input: CreateTableCommandInput['TableInput'], versionId = '0'): Table =>
  ({
    ...input,
    DatabaseName: 'strata_dev',
    CreateTime: new Date('2026-01-01T00:00:00Z'),
    UpdateTime: new Date('2026-01-01T00:00:00Z'),
    CreatedBy: 'arn:aws:sts::123456789012:assumed-role/reconcile',
    IsRegisteredWithLakeFormation: false,
    CatalogId: '123456789012',
    VersionId: versionId,
    StorageDescriptor: {
      ...input?.StorageDescriptor,
      Compressed: false,
      NumberOfBuckets: -1,
      StoredAsSubDirectories: false,
      BucketColumns: [],
      SortColumns: [],
    },
  }) as Table;

const updates = () =>
  mock
    .commandCalls(UpdateTableCommand)
    .map((call) => call.args[0].input as UpdateTableCommandInput);

afterAll(() => {
  mock.restore();
});

describe('Class: GlueCatalog', () => {
  beforeEach(() => {
    mock.reset();
  });

  describe('Method: upsertTable', () => {
    it('creates an external Parquet table with partition projection when there is none', async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .rejects(new EntityNotFoundException({ ...meta, message: 'Table clickstream not found.' }));
      mock.on(CreateTableCommand).resolves({});

      // Act
      const result = await newCatalog().upsertTable(clickstream);

      // Assess
      expect(result).toEqual({
        name: 'strata_dev.clickstream',
        change: 'created',
        columns: [
          { name: 'user_id', type: 'bigint' },
          { name: 'amount', type: 'double' },
          { name: 'is_bot', type: 'boolean' },
          { name: 'mode', type: 'string' },
          { name: 'tags', type: 'string' },
        ],
        partitionColumns: ['year', 'month', 'day', 'mode_partition'],
      });
      expect(mock.commandCalls(CreateTableCommand).map((call) => call.args[0].input)).toEqual([
        { DatabaseName: 'strata_dev', TableInput: clickstreamInput },
      ]);
      expect(mock.commandCalls(UpdateTableCommand)).toHaveLength(0);
    });

    it('declares LIST and MAP columns as Hive arrays and maps', async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .rejects(new EntityNotFoundException({ ...meta, message: 'Table clickstream not found.' }));
      mock.on(CreateTableCommand).resolves({});

      // Act
      const result = await newCatalog().upsertTable({
        ...clickstream,
        columns: [
          { name: 'labels', type: 'VARCHAR[]' },
          { name: 'stars', type: 'MAP(VARCHAR, BIGINT)' },
          { name: '_parent_index', type: 'BIGINT[]' },
        ],
      });

      // Assess
      expect(result.columns).toEqual([
        { name: 'labels', type: 'array<string>' },
        { name: 'stars', type: 'map<string,bigint>' },
        { name: '_parent_index', type: 'array<bigint>' },
      ]);
    });

    it("names a gold model's table gold_<model> and declares the warehouse's typed columns", async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .rejects(new EntityNotFoundException({ ...meta, message: 'Table not found.' }));
      mock.on(CreateTableCommand).resolves({});

      // Act
      const result = await newCatalog().upsertTable({
        table: 'sales_summary',
        layer: 'gold',
        location: 'gold/sales_summary/',
        columns: [
          { name: 'order_date', type: 'DATE' },
          { name: 'count_orders', type: 'BIGINT' },
          { name: 'score', type: 'INTEGER' },
          { name: 'net_revenue', type: 'DECIMAL(18,4)' },
          { name: '_deleted_at', type: 'TIMESTAMP' },
        ],
        partitionKeys: [],
      });

      // Assess
      expect(result).toMatchObject({ name: 'strata_dev.gold_sales_summary', change: 'created' });
      expect(result.columns).toEqual([
        { name: 'order_date', type: 'date' },
        { name: 'count_orders', type: 'bigint' },
        { name: 'score', type: 'int' },
        { name: 'net_revenue', type: 'decimal(18,4)' },
        { name: '_deleted_at', type: 'timestamp' },
      ]);
      const [create] = mock.commandCalls(CreateTableCommand);
      const input = create?.args[0].input.TableInput;
      expect(input).toMatchObject({
        Name: 'gold_sales_summary',
        PartitionKeys: [],
        StorageDescriptor: { Location: 's3://strata-dev-lake/gold/sales_summary/' },
      });
      // One object, no partitions: nothing for Athena to project.
      expect(input?.Parameters).toEqual({ EXTERNAL: 'TRUE', classification: 'parquet' });
    });

    it('sends nothing when the table already matches the definition', async () => {
      // Prepare
      mock.on(GetTableCommand).resolves({ Table: asStored(clickstreamInput) });

      // Act
      const result = await newCatalog().upsertTable(clickstream);

      // Assess
      expect(result.change).toBe('unchanged');
      expect(mock.commandCalls(CreateTableCommand)).toHaveLength(0);
      expect(mock.commandCalls(UpdateTableCommand)).toHaveLength(0);
    });

    it('updates at the read version, keeping what it does not own and every older column and value', async () => {
      // Prepare
      const stored = asStored(
        {
          ...clickstreamInput,
          Owner: 'data-platform',
          Description: 'Clickstream, flattened',
          Parameters: {
            ...clickstreamInput.Parameters,
            'projection.year.values': '2023',
            comment: 'kept',
          },
          StorageDescriptor: {
            ...clickstreamInput.StorageDescriptor,
            Columns: [
              { Name: 'user_id', Type: 'bigint', Comment: 'who' },
              { Name: 'referrer', Type: 'string' },
            ],
          },
        },
        '7'
      );
      mock.on(GetTableCommand).resolves({ Table: stored });
      mock.on(UpdateTableCommand).resolves({});

      // Act
      const result = await newCatalog().upsertTable(clickstream);

      // Assess
      expect(result.change).toBe('updated');
      expect(result.columns.map((column) => column.name)).toEqual([
        'user_id',
        'referrer',
        'amount',
        'is_bot',
        'mode',
        'tags',
      ]);
      const [update] = updates();
      expect(update?.VersionId).toBe('7');
      expect(update?.DatabaseName).toBe('strata_dev');
      expect(update?.TableInput).toMatchObject({
        Name: 'clickstream',
        Owner: 'data-platform',
        Description: 'Clickstream, flattened',
        Parameters: {
          comment: 'kept',
          'projection.year.values': '2023,2024,__HIVE_DEFAULT_PARTITION__',
        },
        StorageDescriptor: {
          Compressed: false,
          NumberOfBuckets: -1,
          Columns: [
            { Name: 'user_id', Type: 'bigint', Comment: 'who' },
            { Name: 'referrer', Type: 'string' },
            { Name: 'amount', Type: 'double' },
            { Name: 'is_bot', Type: 'boolean' },
            { Name: 'mode', Type: 'string' },
            { Name: 'tags', Type: 'string' },
          ],
        },
      });
      // GetTable's read-only fields are not part of a TableInput.
      expect(update?.TableInput).not.toHaveProperty('DatabaseName');
      expect(update?.TableInput).not.toHaveProperty('CreateTime');
      expect(update?.TableInput).not.toHaveProperty('VersionId');
    });

    it('updates when only new partition values arrived', async () => {
      // Prepare
      mock.on(GetTableCommand).resolves({ Table: asStored(clickstreamInput) });
      mock.on(UpdateTableCommand).resolves({});

      // Act
      const result = await newCatalog().upsertTable({
        ...clickstream,
        partitionKeys: clickstream.partitionKeys.map((partition) =>
          partition.key === 'mode' ? { key: 'mode', values: ['app'] } : partition
        ),
      });

      // Assess
      expect(result.change).toBe('updated');
      expect(updates()[0]?.TableInput?.Parameters?.['projection.mode_partition.values']).toBe(
        'app,web'
      );
    });

    it('reads again and retries when another writer updated the table in between', async () => {
      // Prepare
      const older = asStored({ ...clickstreamInput, Parameters: { comment: 'v1' } }, '1');
      const newer = asStored({ ...clickstreamInput, Parameters: { comment: 'v2' } }, '2');
      mock.on(GetTableCommand).resolvesOnce({ Table: older }).resolves({ Table: newer });
      mock
        .on(UpdateTableCommand)
        .rejectsOnce(new ConcurrentModificationException({ ...meta, message: 'concurrent' }))
        .resolves({});

      // Act
      const result = await newCatalog().upsertTable(clickstream);

      // Assess
      expect(result.change).toBe('updated');
      expect(updates().map((update) => update.VersionId)).toEqual(['1', '2']);
      expect(updates()[1]?.TableInput?.Parameters?.comment).toBe('v2');
    });

    it('updates the table another writer created between its read and its create', async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .rejectsOnce(new EntityNotFoundException({ ...meta, message: 'Table not found.' }))
        .resolves({ Table: asStored({ ...clickstreamInput, Parameters: {} }, '0') });
      mock
        .on(CreateTableCommand)
        .rejects(new AlreadyExistsException({ ...meta, message: 'Table already exists.' }));
      mock.on(UpdateTableCommand).resolves({});

      // Act
      const result = await newCatalog().upsertTable(clickstream);

      // Assess
      expect(result.change).toBe('updated');
      expect(updates().map((update) => update.VersionId)).toEqual(['0']);
    });

    it('gives up with Strata.Transient when the table keeps changing', async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .resolves({ Table: asStored({ ...clickstreamInput, Parameters: {} }) });
      mock
        .on(UpdateTableCommand)
        .rejects(new ConcurrentModificationException({ ...meta, message: 'concurrent' }));

      // Act
      const attempt = newCatalog(3).upsertTable(clickstream);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: ErrorName.Transient,
        message: expect.stringContaining('strata_dev.clickstream'),
      });
      expect(updates()).toHaveLength(3);
    });

    it.each([
      ['a ThrottlingException', new ThrottlingException({ ...meta, message: 'Rate exceeded' })],
      [
        'an InternalServiceException',
        new InternalServiceException({ $metadata: { httpStatusCode: 500 }, message: 'boom' }),
      ],
      [
        'an OperationTimeoutException',
        new OperationTimeoutException({ ...meta, message: 'timed out' }),
      ],
    ])('turns %s into Strata.Transient', async (_case, error) => {
      // Prepare
      mock.on(GetTableCommand).rejects(error);

      // Act
      const attempt = newCatalog().upsertTable(clickstream);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: ErrorName.Transient,
        cause: expect.objectContaining({ name: error.name }),
      });
    });

    it('turns a missing database into Strata.Terminal naming it', async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .rejects(
          new EntityNotFoundException({ ...meta, message: 'Database strata_dev not found.' })
        );
      mock
        .on(CreateTableCommand)
        .rejects(
          new EntityNotFoundException({ ...meta, message: 'Database strata_dev not found.' })
        );

      // Act
      const attempt = newCatalog().upsertTable(clickstream);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: ErrorName.Terminal,
        message: expect.stringContaining('Database strata_dev not found'),
      });
    });

    it('turns AccessDenied into Strata.Terminal', async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .resolves({ Table: asStored({ ...clickstreamInput, Parameters: {} }) });
      mock
        .on(UpdateTableCommand)
        .rejects(new AccessDeniedException({ ...meta, message: 'not authorized' }));

      // Act
      const attempt = newCatalog().upsertTable(clickstream);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: ErrorName.Terminal });
    });

    it('refuses to turn a view of the same name into a dataset table', async () => {
      // Prepare
      mock.on(GetTableCommand).resolves({
        Table: { Name: 'clickstream', DatabaseName: 'strata_dev', TableType: 'VIRTUAL_VIEW' },
      });

      // Act
      const attempt = newCatalog().upsertTable(clickstream);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: ErrorName.Terminal });
      expect(mock.commandCalls(UpdateTableCommand)).toHaveLength(0);
    });

    it("keeps a merge-on-read table's files as <table>__files and the table as an Athena view of the latest rows of the files listed", async () => {
      // Prepare
      mock
        .on(GetTableCommand)
        .rejects(new EntityNotFoundException({ ...meta, message: 'Table not found.' }));
      mock.on(CreateTableCommand).resolves({});
      const published = ['part-r1-s1-0.parquet', 'part-r2-s2-0.parquet'].map(
        (name) => `silver/customer/${name}`
      );

      // Act
      const result = await newCatalog().upsertTable({
        ...customer,
        merge: { key: ['c_custkey'], files: published },
      });

      // Assess: the files' table, then the view
      const [files, view] = mock
        .commandCalls(CreateTableCommand)
        .map((call) => call.args[0].input.TableInput);
      expect(files).toMatchObject({
        Name: 'customer__files',
        TableType: 'EXTERNAL_TABLE',
        StorageDescriptor: { Location: 's3://strata-dev-lake/silver/customer/' },
      });
      expect(view).toMatchObject({
        Name: 'customer',
        TableType: 'VIRTUAL_VIEW',
        Parameters: { presto_view: 'true' },
        ViewExpandedText: '/* Presto View */',
        StorageDescriptor: {
          Columns: [
            { Name: 'c_custkey', Type: 'bigint' },
            { Name: 'c_name', Type: 'string' },
          ],
        },
      });
      expect(result).toEqual({
        name: 'strata_dev.customer',
        change: 'created',
        columns: [
          { name: 'c_custkey', type: 'bigint' },
          { name: 'c_name', type: 'string' },
        ],
        partitionColumns: [],
      });
      const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(
        view?.ViewOriginalText ?? ''
      );
      const presto = JSON.parse(Buffer.from(encoded?.[1] ?? '', 'base64').toString('utf8'));
      expect(presto).toMatchObject({
        catalog: 'awsdatacatalog',
        schema: 'strata_dev',
        columns: [
          { name: 'c_custkey', type: 'bigint' },
          { name: 'c_name', type: 'varchar' },
        ],
      });
      // The view's SQL as Athena would run it, here on DuckDB over rows with Athena's "$path":
      // two versions of customer 1, and a row of a file a run wrote and never published.
      const rows = await DuckDbEngine.use({}, async (engine) => {
        await engine.run(`
          create schema strata_dev;
          create table strata_dev.customer__files as
          select * from (values
            (1, 'old', 1, 's3://strata-dev-lake/${published[0]}'),
            (2, 'two', 1, 's3://strata-dev-lake/${published[0]}'),
            (1, 'new', 2, 's3://strata-dev-lake/${published[1]}'),
            (2, 'unpublished', 3, 's3://strata-dev-lake/silver/customer/part-r3-s3-0.parquet')
          ) as t(c_custkey, c_name, _silver_seq, "$path")`);
        return engine.all(`${presto.originalSql} order by c_custkey`);
      });
      expect(rows.map((row) => [Number(row.c_custkey), row.c_name])).toEqual([
        [1, 'new'],
        [2, 'two'],
      ]);
    });

    it('turns the table of a dataset that becomes merge-on-read into its view, and back', async () => {
      // Prepare: customer exists as a plain table
      const stored = asStored({ ...(await inputOf(customer)), Name: 'customer' }, '4');
      mock.on(GetTableCommand, { Name: 'customer' }).resolves({ Table: stored });
      mock
        .on(GetTableCommand, { Name: 'customer__files' })
        .rejects(new EntityNotFoundException({ ...meta, message: 'Table not found.' }));
      mock.on(CreateTableCommand).resolves({});
      mock.on(UpdateTableCommand).resolves({});

      // Act
      await newCatalog().upsertTable({
        ...customer,
        merge: { key: ['c_custkey'], files: ['silver/customer/part-r1-s1-0.parquet'] },
      });

      // Assess
      expect(updates()).toMatchObject([
        { VersionId: '4', TableInput: { Name: 'customer', TableType: 'VIRTUAL_VIEW' } },
      ]);

      // Act: the view becomes a table again (the dataset is partitioned now, say)
      mock.reset();
      mock.on(GetTableCommand).resolves({
        Table: {
          ...stored,
          TableType: 'VIRTUAL_VIEW',
          Parameters: { strata_merge_key: 'c_custkey' },
        },
      });
      mock.on(UpdateTableCommand).resolves({});
      await newCatalog().upsertTable(customer);

      // Assess
      expect(updates()).toMatchObject([
        {
          TableInput: {
            Name: 'customer',
            TableType: 'EXTERNAL_TABLE',
            Parameters: { EXTERNAL: 'TRUE' },
          },
        },
      ]);
      expect(updates()[0]?.TableInput?.ViewOriginalText).toBeUndefined();
    });
  });
});

describe('Class: GlueCatalog (contract)', () => {
  beforeAll(() => {
    // A table store with Glue's semantics: VersionId checks, AlreadyExists, Glue's own defaults.
    const tables = new Map<string, Table>();
    mock.reset();
    mock.on(GetTableCommand).callsFake((input: { Name: string }) => {
      const table = tables.get(input.Name);
      if (!table) throw new EntityNotFoundException({ ...meta, message: 'Table not found.' });
      return { Table: structuredClone(table) };
    });
    mock.on(CreateTableCommand).callsFake((input: CreateTableCommandInput) => {
      const name = input.TableInput?.Name ?? '';
      if (tables.has(name)) throw new AlreadyExistsException({ ...meta, message: 'exists' });
      tables.set(name, asStored(input.TableInput));
      return {};
    });
    mock.on(UpdateTableCommand).callsFake((input: UpdateTableCommandInput) => {
      const name = input.TableInput?.Name ?? '';
      const current = tables.get(name);
      if (current?.VersionId !== input.VersionId) {
        throw new ConcurrentModificationException({ ...meta, message: 'concurrent' });
      }
      tables.set(name, asStored(input.TableInput, String(Number(input.VersionId) + 1)));
      return {};
    });
  });

  catalogContract('GlueCatalog on a Glue table store', () => newCatalog());
});
