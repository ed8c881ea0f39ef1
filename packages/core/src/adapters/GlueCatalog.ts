import { isDeepStrictEqual } from 'node:util';
import {
  type Column,
  CreateTableCommand,
  GetTableCommand,
  GlueClient,
  type Table,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { isIdentifier } from '../config/index.js';
import { BadInputError, TerminalError, TransientError } from '../errors/index.js';
import { ATHENA_PATH, latestRowsSql, raceBackoff, SILVER_SEQ } from '../lake/index.js';
import type {
  Catalog,
  CatalogColumnType,
  CatalogTable,
  ScalarColumnType,
  TableDefinition,
  TypedColumnType,
} from '../ports/index.js';
import {
  type EngineColumn,
  evolveColumns,
  HIVE_NULL_PARTITION,
  partitionColumnNames,
} from './catalogRules.js';
import { translateAwsError } from './translateAwsError.js';

export interface GlueCatalogOptions {
  /** The Glue database the tables live in. */
  database: string;
  /** The lake bucket, for the tables' `s3://` locations. */
  bucket: string;
  client?: GlueClient;
  /** Read-modify-write rounds to try when another writer changes the table in between. */
  attempts?: number;
}

/** Hive's names for the pipeline's column types; JSON is text to every engine that reads it. */
const HIVE_SCALAR: Record<ScalarColumnType | 'JSON', string> = {
  BIGINT: 'bigint',
  DOUBLE: 'double',
  BOOLEAN: 'boolean',
  VARCHAR: 'string',
  JSON: 'string',
};

/** Hive's names for the warehouse's typed columns (a DECIMAL keeps its precision and scale). */
const HIVE_TYPED: Record<Exclude<TypedColumnType, `DECIMAL(${string}`>, string> = {
  INTEGER: 'int',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
};

/** A column type in Hive's words: LISTs as `array<…>`, MAPs as `map<string,…>`. */
const hiveType = (type: CatalogColumnType): string => {
  if (type.endsWith('[]')) return `array<${hiveType(type.slice(0, -2) as CatalogColumnType)}>`;
  const map = /^MAP\(VARCHAR, (.+)\)$/.exec(type);
  if (map) return `map<string,${hiveType(map[1] as CatalogColumnType)}>`;
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  return HIVE_SCALAR[type as ScalarColumnType] ?? HIVE_TYPED[type as keyof typeof HIVE_TYPED];
};

/** How Athena and Spark read Parquet through a Hive table. */
const PARQUET = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
  },
} as const;

const TEMPLATE = 'storage.location.template';

/** The parameter that marks a view as a merge-on-read table's, this adapter's to replace. */
const MERGE_VIEW = 'strata_merge_key';

/** Presto's (Athena's) names for Hive's types, as a Presto view's columns are declared. */
const prestoType = (hive: string): string => {
  const array = /^array<(.+)>$/.exec(hive);
  if (array) return `array(${prestoType(array[1] ?? '')})`;
  const map = /^map<string,(.+)>$/.exec(hive);
  if (map) return `map(varchar,${prestoType(map[1] ?? '')})`;
  return hive === 'string' ? 'varchar' : hive === 'int' ? 'integer' : hive;
};

/** The fields of a GetTable answer that TableInput takes back (the rest are read-only). */
const INPUT_FIELDS = [
  'Name',
  'Description',
  'Owner',
  'LastAccessTime',
  'LastAnalyzedTime',
  'Retention',
  'StorageDescriptor',
  'PartitionKeys',
  'ViewOriginalText',
  'ViewExpandedText',
  'TableType',
  'Parameters',
  'TargetTable',
] as const satisfies readonly (keyof TableInput & keyof Table)[];

/** A table as TableInput: UpdateTable replaces the whole table, so this is what it keeps. */
const asInput = (table: Table): TableInput =>
  Object.fromEntries(
    INPUT_FIELDS.filter((field) => table[field] !== undefined).map((field) => [field, table[field]])
  ) as unknown as TableInput;

/**
 * What this adapter decides about a table. Glue fills in defaults of its own (bucket counts,
 * empty lists), so only these are compared to tell whether an update is needed.
 */
const owned = (input: TableInput) => ({
  tableType: input.TableType,
  parameters: input.Parameters,
  view: input.ViewOriginalText,
  partitionKeys: input.PartitionKeys?.map((column) => [column.Name, column.Type]),
  columns: input.StorageDescriptor?.Columns?.map((column) => [column.Name, column.Type]),
  location: input.StorageDescriptor?.Location,
  inputFormat: input.StorageDescriptor?.InputFormat,
  outputFormat: input.StorageDescriptor?.OutputFormat,
  serde: input.StorageDescriptor?.SerdeInfo?.SerializationLibrary,
});

/** Projected values per path key, read back from a table this adapter wrote. */
const projectedValues = (parameters: Record<string, string>): Map<string, string[]> => {
  const values = new Map<string, string[]>();
  for (const [, key, column] of (parameters[TEMPLATE] ?? '').matchAll(/([^/=]+)=\$\{([^}]+)\}/g)) {
    const listed = parameters[`projection.${column}.values`];
    if (key && listed) values.set(key, listed.split(',').filter(Boolean));
  }
  return values;
};

/**
 * {@link Catalog} on the Glue Data Catalog: one external Parquet table per dataset, with Athena
 * partition projection so new partitions need no registration.
 *
 * Every partition key is projected as an `enum` of the values written so far. `integer` ranges
 * cannot produce the `__HIVE_DEFAULT_PARTITION__` directory that null dates and modes land in,
 * and `injected` keys make every query without an equality filter on each of them fail; the
 * enums only grow, like the columns. Updates are read-modify-write with the table's
 * `VersionId`, so two writers cannot silently overwrite each other: the loser reads again.
 *
 * @example
 * const catalog = new GlueCatalog({ database: Resource.Catalog.name, bucket: Resource.Lake.name });
 * await catalog.upsertTable({ table: 'clickstream', location: 'silver/clickstream/', columns, partitionKeys });
 */
export class GlueCatalog implements Catalog {
  readonly #database: string;
  readonly #bucket: string;
  readonly #client: GlueClient;
  readonly #attempts: number;

  constructor(options: GlueCatalogOptions) {
    this.#database = options.database;
    this.#bucket = options.bucket;
    this.#client = options.client ?? new GlueClient({});
    this.#attempts = options.attempts ?? 10;
  }

  async upsertTable(definition: TableDefinition): Promise<CatalogTable> {
    if (!isIdentifier(definition.table) || !definition.location.endsWith('/')) {
      throw new BadInputError(
        `catalog: table "${definition.table}" at "${definition.location}" needs a plain name and a prefix ending in /`
      );
    }
    // One database holds every layer: a gold model's table carries the layer in its name.
    const table = definition.layer === 'gold' ? `gold_${definition.table}` : definition.table;
    const { merge, ...rest } = definition;
    if (!merge) return this.#write(table, (current) => this.#inputFor({ ...rest, table }, current));
    // A merge-on-read table: its files as a table, and the table as a view of their latest rows.
    const files = await this.#write(`${table}__files`, (current) =>
      this.#inputFor({ ...rest, table: `${table}__files` }, current)
    );
    return this.#write(table, () => this.#viewInput(table, files, merge));
  }

  /**
   * The Athena view of a merge-on-read table: the latest version of each key among the rows of
   * `<table>__files` in the files the table's manifest lists (Athena's `"$path"`), so no query
   * sees a row twice or a file a run wrote and never published. Glue keeps an Athena view as a
   * `VIRTUAL_VIEW` whose original text is `/* Presto View: <base64 of its JSON> *\/`.
   */
  #viewInput(
    table: string,
    files: CatalogTable,
    merge: NonNullable<TableDefinition['merge']>
  ): TableInput {
    const columns = files.columns.filter((column) => column.name !== SILVER_SEQ);
    const originalSql = latestRowsSql({
      source: `"${this.#database.replaceAll('"', '""')}"."${table}__files"`,
      columns: columns.map((column) => column.name),
      key: merge.key,
      paths: {
        column: ATHENA_PATH,
        values: merge.files.map((key) => `s3://${this.#bucket}/${key}`),
      },
    });
    const view = {
      originalSql,
      catalog: 'awsdatacatalog',
      schema: this.#database,
      columns: columns.map((column) => ({ name: column.name, type: prestoType(column.type) })),
    };
    return {
      Name: table,
      TableType: 'VIRTUAL_VIEW',
      Parameters: {
        presto_view: 'true',
        comment: 'Presto View',
        [MERGE_VIEW]: merge.key.join(','),
      },
      ViewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(view)).toString('base64')} */`,
      ViewExpandedText: '/* Presto View */',
      PartitionKeys: [],
      StorageDescriptor: {
        Columns: columns.map((column) => ({ Name: column.name, Type: column.type })),
        SerdeInfo: {},
      },
    };
  }

  /**
   * Creates or updates `table` as `inputFor` builds it from the table as it is, read-modify-
   * write at its version. A view or table this adapter did not make is left alone.
   */
  async #write(
    table: string,
    inputFor: (current: Table | undefined) => TableInput
  ): Promise<CatalogTable> {
    const name = `${this.#database}.${table}`;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      const current = await this.#get(table);
      const ours =
        !current?.TableType ||
        current.TableType === 'EXTERNAL_TABLE' ||
        (current.TableType === 'VIRTUAL_VIEW' && current.Parameters?.[MERGE_VIEW] !== undefined);
      if (!ours) {
        throw new TerminalError(`catalog: ${name} is a ${current.TableType}, not a dataset table`);
      }
      const input = inputFor(current);
      const result = (change: CatalogTable['change']): CatalogTable => ({
        name,
        change,
        columns: (input.StorageDescriptor?.Columns ?? []).map((c) => ({
          name: c.Name ?? '',
          type: c.Type ?? '',
        })),
        partitionColumns: (input.PartitionKeys ?? []).map((c) => c.Name ?? ''),
      });
      if (current && isDeepStrictEqual(owned(asInput(current)), owned(input))) {
        return result('unchanged');
      }
      try {
        await this.#client.send(
          current
            ? new UpdateTableCommand({
                DatabaseName: this.#database,
                TableInput: input,
                VersionId: current.VersionId,
              })
            : new CreateTableCommand({ DatabaseName: this.#database, TableInput: input })
        );
        return result(current ? 'updated' : 'created');
      } catch (error) {
        // Another writer created or changed the table since we read it: read it again.
        const code = (error as Error).name;
        if (code === 'ConcurrentModificationException' || code === 'AlreadyExistsException') {
          await raceBackoff(attempt);
          continue;
        }
        throw translateGlueError(error, `glue ${current ? 'UpdateTable' : 'CreateTable'} ${name}`);
      }
    }
    throw new TransientError(
      `catalog: ${name} kept changing under ${this.#attempts} attempts to update it`
    );
  }

  async #get(table: string): Promise<Table | undefined> {
    try {
      const out = await this.#client.send(
        new GetTableCommand({ DatabaseName: this.#database, Name: table })
      );
      return out.Table;
    } catch (error) {
      // Glue says this for a missing database too; CreateTable then fails naming the database.
      if ((error as Error).name === 'EntityNotFoundException') return undefined;
      throw translateGlueError(error, `glue GetTable ${this.#database}.${table}`);
    }
  }

  /** The table as it must be: the current one with the definition's columns and projection. */
  #inputFor(definition: TableDefinition, current: Table | undefined): TableInput {
    // A merge-on-read table's view that becomes a table again keeps nothing of the view.
    const base =
      current && current.TableType !== 'VIRTUAL_VIEW'
        ? asInput(current)
        : { Name: definition.table };
    const existing = base.StorageDescriptor?.Columns ?? [];
    const columns = evolveColumns(
      existing.map((column) => ({ name: column.Name ?? '', type: column.Type ?? '' })),
      definition.columns.map((column) => ({
        name: column.name,
        type: hiveType(column.type),
        ...(column.comment === undefined ? {} : { comment: column.comment }),
      }))
    );
    const keys = definition.partitionKeys.map((partition) => partition.key);
    const partitionNames = partitionColumnNames(keys, columns);
    const root = `s3://${this.#bucket}/${definition.location}`;
    const previous = projectedValues(base.Parameters ?? {});
    // A table with no partition keys is read whole: Athena has nothing to project.
    const projection: Record<string, string> = keys.length
      ? {
          'projection.enabled': 'true',
          [TEMPLATE]: `${root}${keys.map((key, i) => `${key}=\${${partitionNames[i]}}`).join('/')}/`,
        }
      : {};
    for (const [i, partition] of definition.partitionKeys.entries()) {
      const values = [...new Set([...(previous.get(partition.key) ?? []), ...partition.values])];
      // An enum needs a value; the null partition of a table with no data yet matches nothing.
      projection[`projection.${partitionNames[i]}.type`] = 'enum';
      projection[`projection.${partitionNames[i]}.values`] = (
        values.length ? values.sort() : [HIVE_NULL_PARTITION]
      ).join(',');
    }
    const kept = Object.entries(base.Parameters ?? {}).filter(
      ([key]) => !key.startsWith('projection.')
    );
    return {
      ...base,
      TableType: 'EXTERNAL_TABLE',
      Parameters: {
        ...Object.fromEntries(kept),
        EXTERNAL: 'TRUE',
        classification: 'parquet',
        ...projection,
      },
      PartitionKeys: partitionNames.map((name) =>
        withDetails({ name, type: 'string' }, base.PartitionKeys ?? [])
      ),
      StorageDescriptor: {
        ...base.StorageDescriptor,
        ...PARQUET,
        Location: root,
        Columns: columns.map((column) => withDetails(column, existing)),
      },
    };
  }
}

/** {@link translateAwsError}, plus Glue's own timeout, which it answers as a client error. */
const translateGlueError = (error: unknown, action: string): Error =>
  error instanceof Error && error.name === 'OperationTimeoutException'
    ? new TransientError(`${action}: ${error.name}: ${error.message}`, { cause: error })
    : translateAwsError(error, action);

/** Glue's limit on a column comment. */
const MAX_COMMENT = 255;

/**
 * A column with the comment and parameters it already had in Glue (someone may have written
 * that comment by hand), or else the definition's comment: its JSON path.
 */
const withDetails = (column: EngineColumn, existing: readonly Column[]): Column => {
  const before = existing.find((candidate) => candidate.Name === column.name);
  const comment = before?.Comment ?? column.comment?.slice(0, MAX_COMMENT);
  return {
    ...before,
    Name: column.name,
    Type: column.type,
    ...(comment === undefined ? {} : { Comment: comment }),
  };
};
