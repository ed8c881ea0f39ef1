import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { BadInputError } from '../errors/index.js';
import type {
  ColumnSpec,
  LineageColumn,
  QueryOptions,
  RowBatch,
  UnloadedFile,
  Warehouse,
} from '../ports/index.js';

export interface DuckDbWarehouseOptions {
  /** The database file holding the source tables. */
  path: string;
  /** Catalog name to attach it under, so `snowflake_sample_data.tpch_sf1.orders` resolves. */
  database: string;
}

/** A lineage value as a DuckDB literal of its type. */
const lineageLiteral = (column: LineageColumn): string => {
  switch (column.type) {
    case 'varchar':
      return quoteLiteral(String(column.value));
    case 'timestamptz':
      return `timestamptz ${quoteLiteral(String(column.value))}`;
    case 'integer':
      if (!Number.isSafeInteger(column.value)) {
        throw new BadInputError(`lineage ${column.name}: ${column.value} is not an integer`);
      }
      return `${column.value}::integer`;
  }
};

/** Cuts a statement down to something readable for an error message. */
export const describeStatement = (sql: string): string => {
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 197)}...` : oneLine;
};

/**
 * {@link Warehouse} over an embedded DuckDB database: the local stand-in for Snowflake.
 *
 * The file is attached read-only under the Snowflake database name, so the default queries run
 * unchanged against both.
 */
export class DuckDbWarehouse implements Warehouse {
  readonly #options: DuckDbWarehouseOptions;
  #instance: DuckDBInstance | undefined;

  constructor(options: DuckDbWarehouseOptions) {
    this.#options = options;
  }

  /**
   * A connection with the database attached, a statement timeout (DuckDB has no timeout
   * setting, so a timer interrupts the connection), and errors that name `sql`.
   */
  async #open(sql: string, options: QueryOptions) {
    this.#instance ??= await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await this.#instance.connect();
    const timer = options.timeoutSeconds
      ? setTimeout(() => connection.interrupt(), options.timeoutSeconds * 1000)
      : undefined;
    const release = () => {
      clearTimeout(timer);
      connection.closeSync();
    };
    const failed = (error: unknown) =>
      new BadInputError(
        `warehouse query failed: ${(error as Error).message} [statement: ${describeStatement(sql)}]`,
        { cause: error }
      );
    try {
      await connection.run(
        `attach if not exists ${quoteLiteral(this.#options.path)} as ${quoteIdentifier(this.#options.database)} (read_only)`
      );
    } catch (error) {
      release();
      throw error;
    }
    return { connection, release, failed, binds: options.binds ? [...options.binds] : undefined };
  }

  async *query(sql: string, options: QueryOptions): AsyncIterable<RowBatch> {
    const { connection, release, failed, binds } = await this.#open(sql, options);
    try {
      const result = await connection.stream(sql, binds).catch((error: unknown) => {
        throw failed(error);
      });
      const names = result.columnNames();
      const columns: ColumnSpec[] = result
        .columnTypes()
        .map((type, index) => ({ name: names[index] ?? `column${index}`, type: type.toString() }));
      const chunks = result.yieldRowObjectJson()[Symbol.asyncIterator]();
      let rows: Record<string, unknown>[] = [];
      let yielded = false;
      for (;;) {
        const next = await chunks.next().catch((error: unknown) => {
          throw failed(error);
        });
        if (next.done) break;
        for (const row of next.value) {
          rows.push(row);
          if (rows.length === options.batchSize) {
            yield { columns, rows };
            yielded = true;
            rows = [];
          }
        }
      }
      if (rows.length > 0 || !yielded) yield { columns, rows };
    } finally {
      release();
    }
  }

  /**
   * Writes the result as ZSTD Parquet files of about `batchSize` rows (DuckDB cuts row groups
   * at its 2,048-row vectors) in result order, one thread so the order is kept.
   */
  async unload(
    sql: string,
    options: QueryOptions & { dir: string; lineage: readonly LineageColumn[] }
  ): Promise<UnloadedFile[]> {
    const { connection, release, failed, binds } = await this.#open(sql, options);
    const lineage = options.lineage.map(
      (column) => `${lineageLiteral(column)} as ${quoteIdentifier(column.name)}`
    );
    try {
      await connection
        .run(
          `copy (select *, ${lineage.join(', ')} from (\n${sql}\n) as strata_unload) to ${quoteLiteral(options.dir)} (format parquet, compression zstd, row_group_size ${Math.trunc(options.batchSize)}, row_groups_per_file 1, filename_pattern 'unload_{i}', overwrite true)`,
          binds
        )
        .catch((error: unknown) => {
          throw failed(error);
        });
      const files = (await readdir(options.dir))
        .filter((name) => /^unload_\d+\.parquet$/.test(name))
        .sort((a, b) => Number(a.match(/\d+/)?.[0]) - Number(b.match(/\d+/)?.[0]));
      const unloaded: UnloadedFile[] = [];
      for (const name of files) {
        const path = join(options.dir, name);
        const reader = await connection.runAndReadAll(
          `select count(*) as n from read_parquet(${quoteLiteral(path)})`
        );
        unloaded.push({ path, rows: Number(reader.getRows()[0]?.[0] ?? 0) });
      }
      return unloaded;
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    this.#instance?.closeSync();
    this.#instance = undefined;
  }
}
