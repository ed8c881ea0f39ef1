import { resolve } from 'node:path';
import {
  type EngineColumn,
  evolveColumns,
  HIVE_NULL_PARTITION,
  partitionColumnNames,
} from '@strata/core/adapters';
import { quoteIdentifier, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { BadInputError, TransientError } from '@strata/core/errors';
import { ATHENA_PATH, latestRowsSql, SILVER_SEQ } from '@strata/core/lake';
import type { Catalog, CatalogColumnType, CatalogTable, TableDefinition } from '@strata/core/ports';
import { S3RVER_OBJECT_SUFFIX } from '../s3/LocalS3.js';

export interface DuckDbCatalogOptions {
  /** The catalog's database file, e.g. `.strata/catalog.duckdb`. */
  path: string;
  /**
   * The lake bucket's directory on disk. s3rver keeps the object `<key>` as the file
   * `<bucket dir>/<key>._S3rver_object`, beside `._S3rver_metadata.json` and `.md5` sidecars.
   */
  lakeDirectory: string;
  /** The schema the views are created in (`silver`); gold tables go to `gold`. */
  schema: string;
}

/**
 * How a view casts each column type; JSON stays text, as in Athena, so every file's value fits,
 * and a TIMESTAMP is the instant the pipeline writes.
 */
const duckDbType = (type: CatalogColumnType): string =>
  type === 'JSON' ? 'VARCHAR' : type === 'TIMESTAMP' ? 'TIMESTAMPTZ' : type;

/** Where the catalog records each table's definition, as Glue does for Athena. */
const TABLES = '"_strata"."tables"';
/** Column comments per transaction: few enough that the view's copies stay small. */
const COMMENTS_PER_COMMIT = 100;

/**
 * The last upsert of each catalog file in this process. DuckDB's file lock keeps another
 * process out while one upserts (it gets Strata.Transient), but not a second instance in this
 * process, whose transaction would then overwrite the first's: upserts of one file take turns.
 */
const upserts = new Map<string, Promise<unknown>>();

/** A table's record: its columns in the pipeline's types and the view generated from them. */
interface TableRecord {
  columns: EngineColumn[];
  sql: string;
}

/**
 * {@link Catalog} for the embedded runtime: a DuckDB database file holding one view per dataset
 * over s3rver's on-disk copy of the lake, so a data engineer can run
 * `duckdb .strata/catalog.duckdb "select * from silver.clickstream"`.
 *
 * A view reads every data object under the table's location (`union_by_name`, so files from
 * before and after a schema change line up), casts each column to its catalog type, and takes
 * the partition columns from the object path, with `__HIVE_DEFAULT_PARTITION__` read as null.
 * DuckDB's own `hive_partitioning` is off on purpose: it replaces a file column that shares a
 * partition key's name (a feed's `mode` field) with the path's sanitised value. Columns the
 * catalog keeps but no file has yet read as null. The file is opened per upsert and closed
 * right after, so it can be queried between runs.
 *
 * @example
 * const catalog = new DuckDbCatalog({ path: '.strata/catalog.duckdb', lakeDirectory: '.strata/s3/strata-lake', schema: 'silver' });
 */
export class DuckDbCatalog implements Catalog {
  readonly #options: DuckDbCatalogOptions;

  constructor(options: DuckDbCatalogOptions) {
    this.#options = options;
  }

  upsertTable(definition: TableDefinition): Promise<CatalogTable> {
    const file = resolve(this.#options.path);
    const upsert = (upserts.get(file) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => (definition.merge ? this.#upsertMerged(definition) : this.#upsert(definition)));
    upserts.set(file, upsert);
    void upsert.then(
      () => upserts.get(file) === upsert && upserts.delete(file),
      () => upserts.get(file) === upsert && upserts.delete(file)
    );
    return upsert;
  }

  /**
   * A merge-on-read table: its files as `<table>__files` (with Athena's `"$path"`, here the
   * lake key), and the table as a view of the latest version of each key in the files the
   * definition lists, by the same SQL Athena's view runs.
   */
  async #upsertMerged(definition: TableDefinition): Promise<CatalogTable> {
    const { merge, ...rest } = definition;
    if (!merge) return this.#upsert(definition);
    const files = await this.#upsert({ ...rest, table: `${definition.table}__files` }, true);
    const schema = this.#options.schema;
    const columns = files.columns.filter((column) => column.name !== SILVER_SEQ);
    const sql = latestRowsSql({
      source: `${quoteIdentifier(schema)}.${quoteIdentifier(`${definition.table}__files`)}`,
      columns: columns.map((column) => column.name),
      key: merge.key,
      paths: { column: ATHENA_PATH, values: merge.files },
    });
    return this.#withCatalog(async (engine) => {
      // The view's columns are its files' (which only grow): its record keeps only its SQL.
      const [row] = await engine.all(
        `select sql from ${TABLES} where schema_name = ${quoteLiteral(schema)} and table_name = ${quoteLiteral(definition.table)}`
      );
      const change = !row ? 'created' : String(row.sql) === sql ? 'unchanged' : 'updated';
      if (change !== 'unchanged') {
        await engine.run(`
          begin transaction;
          create or replace view ${quoteIdentifier(schema)}.${quoteIdentifier(definition.table)} as ${sql};
          insert or replace into ${TABLES} values (${quoteLiteral(schema)}, ${quoteLiteral(definition.table)}, '[]', ${quoteLiteral(sql)});
          commit;`);
      }
      return { name: `${schema}.${definition.table}`, change, columns, partitionColumns: [] };
    });
  }

  /** Runs `work` on the catalog file, opened for it and closed after, its tables created. */
  async #withCatalog<T>(work: (engine: DuckDbEngine) => Promise<T>): Promise<T> {
    const engine = await DuckDbEngine.create({ path: this.#options.path }).catch((error) => {
      // Another process (a `duckdb` shell, say) holds the file's write lock until it closes it.
      throw new TransientError(`catalog: cannot open ${this.#options.path}: ${error.message}`, {
        cause: error,
      });
    });
    try {
      await engine.run(`
        create schema if not exists "_strata";
        create table if not exists ${TABLES} (
          schema_name varchar, table_name varchar, columns json, sql varchar,
          primary key (schema_name, table_name));`);
      return await work(engine);
    } finally {
      engine.close();
    }
  }

  async #upsert(definition: TableDefinition, withPath = false): Promise<CatalogTable> {
    // Gold models get a schema of their own, as they are queried: gold.<model>.
    const schema = definition.layer === 'gold' ? 'gold' : this.#options.schema;
    const view = `${quoteIdentifier(schema)}.${quoteIdentifier(definition.table)}`;
    if (!definition.location.endsWith('/')) {
      throw new BadInputError(`catalog: location "${definition.location}" must end in /`);
    }
    return this.#withCatalog(async (engine) => {
      await engine.run('begin transaction');
      const key = `schema_name = ${quoteLiteral(schema)} and table_name = ${quoteLiteral(definition.table)}`;
      const [row] = await engine.all(`select columns, sql from ${TABLES} where ${key}`);
      const before: TableRecord | undefined = row
        ? { columns: JSON.parse(String(row.columns)) as EngineColumn[], sql: String(row.sql) }
        : undefined;
      const columns = evolveColumns(before?.columns ?? [], definition.columns);
      const partitionColumns = partitionColumnNames(
        definition.partitionKeys.map((partition) => partition.key),
        columns
      );
      const sql = await this.#viewSql(engine, definition, columns, partitionColumns, withPath);
      const same =
        before?.sql === sql && JSON.stringify(before.columns) === JSON.stringify(columns);
      if (same) {
        await engine.run('commit');
      } else {
        await engine.run(`
          create schema if not exists ${quoteIdentifier(schema)};
          create or replace view ${view} as ${sql};
          commit;`);
        // Each comment alters the view, and one transaction keeps a copy of the view per change:
        // 2,909 comments in one took 75 s and 5 GB. Committed in chunks they take about 2 s.
        const comments = columns
          .filter((column) => column.comment !== undefined)
          .map(
            (column) =>
              `comment on column ${view}.${quoteIdentifier(column.name)} is ${quoteLiteral(column.comment ?? '')};`
          );
        for (let start = 0; start < comments.length; start += COMMENTS_PER_COMMIT) {
          await engine.run(
            `begin transaction; ${comments.slice(start, start + COMMENTS_PER_COMMIT).join('\n')} commit;`
          );
        }
        // Recorded last: an upsert cut short before this point is done again by the next one.
        await engine.run(
          `insert or replace into ${TABLES} values (${quoteLiteral(schema)}, ${quoteLiteral(definition.table)}, ${quoteLiteral(JSON.stringify(columns))}, ${quoteLiteral(sql)});`
        );
      }
      return {
        name: `${schema}.${definition.table}`,
        change: !before ? 'created' : same ? 'unchanged' : 'updated',
        columns: columns.map((column) => ({
          name: column.name,
          type: duckDbType(column.type as CatalogColumnType),
        })),
        partitionColumns,
      };
    });
  }

  /** The view's query: every data object under the location, typed, partitions from the path. */
  async #viewSql(
    engine: DuckDbEngine,
    definition: TableDefinition,
    columns: readonly EngineColumn[],
    partitionColumns: readonly string[],
    withPath: boolean
  ): Promise<string> {
    const root = `${this.#options.lakeDirectory.replace(/\/+$/, '')}/${definition.location}`;
    const keys = definition.partitionKeys.map((partition) => partition.key);
    const pattern = quoteLiteral(
      `${root}${keys.map((key) => `${key}=*/`).join('')}*.parquet${S3RVER_OBJECT_SUFFIX}`
    );
    const files = await engine.scalarNumber(`select count(*) from glob(${pattern})`);
    const typed = (column: EngineColumn) => duckDbType(column.type as CatalogColumnType);
    if (files === 0) {
      const empty = [
        ...columns.map((c) => `cast(null as ${typed(c)}) as ${quoteIdentifier(c.name)}`),
        ...partitionColumns.map((name) => `cast(null as VARCHAR) as ${quoteIdentifier(name)}`),
        ...(withPath ? [`cast(null as VARCHAR) as ${ATHENA_PATH}`] : []),
      ];
      return `select ${empty.join(', ')} where false`;
    }
    const fileColumn = unusedName('_object_path', [...columns.map((c) => c.name)]);
    const source = `read_parquet(${pattern}, hive_partitioning = false, union_by_name = true, filename = ${quoteLiteral(fileColumn)})`;
    const present = new Set(
      (await engine.all(`describe select * from ${source}`)).map((r) => String(r.column_name))
    );
    const relative = `substr(${quoteIdentifier(fileColumn)}, ${root.length + 1})`;
    const select = [
      ...columns.map(
        (c) =>
          `cast(${present.has(c.name) ? quoteIdentifier(c.name) : 'null'} as ${typed(c)}) as ${quoteIdentifier(c.name)}`
      ),
      // `<key>=<value>` is the n-th segment after the root: the value starts after `<key>=`.
      ...keys.map(
        (key, i) =>
          `nullif(split_part(${relative}, '/', ${i + 1})[${key.length + 2}:], ${quoteLiteral(HIVE_NULL_PARTITION)}) as ${quoteIdentifier(partitionColumns[i] ?? key)}`
      ),
      // Athena's "$path" names the object a row is in: here its lake key.
      ...(withPath
        ? [
            `${quoteLiteral(definition.location)} || replace(${relative}, ${quoteLiteral(S3RVER_OBJECT_SUFFIX)}, '') as ${ATHENA_PATH}`,
          ]
        : []),
    ];
    return `select ${select.join(', ')} from ${source}`;
  }
}

/** `name`, or `name_2`, `name_3`… whichever no column has. */
const unusedName = (name: string, taken: readonly string[]): string => {
  let candidate = name;
  for (let n = 2; taken.includes(candidate); n++) candidate = `${name}_${n}`;
  return candidate;
};
