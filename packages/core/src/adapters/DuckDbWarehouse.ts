import { DuckDBInstance } from '@duckdb/node-api';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { BadInputError } from '../errors/index.js';
import type { ColumnSpec, QueryOptions, RowBatch, Warehouse } from '../ports/index.js';

export interface DuckDbWarehouseOptions {
  /** The database file holding the source tables. */
  path: string;
  /** Catalog name to attach it under, so `snowflake_sample_data.tpch_sf1.orders` resolves. */
  database: string;
}

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

  async *query(sql: string, options: QueryOptions): AsyncIterable<RowBatch> {
    this.#instance ??= await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await this.#instance.connect();
    // DuckDB has no statement timeout setting; interrupting the connection cancels the query.
    const timer = options.timeoutSeconds
      ? setTimeout(() => connection.interrupt(), options.timeoutSeconds * 1000)
      : undefined;
    try {
      await connection.run(
        `attach if not exists ${quoteLiteral(this.#options.path)} as ${quoteIdentifier(this.#options.database)} (read_only)`
      );
      const failed = (error: unknown) =>
        new BadInputError(
          `warehouse query failed: ${(error as Error).message} [statement: ${describeStatement(sql)}]`,
          { cause: error }
        );
      const binds = options.binds ? [...options.binds] : undefined;
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
      clearTimeout(timer);
      connection.closeSync();
    }
  }

  async close(): Promise<void> {
    this.#instance?.closeSync();
    this.#instance = undefined;
  }
}
