/** A result column: its name as the warehouse spells it and its DuckDB logical type. */
export interface ColumnSpec {
  name: string;
  /** A DuckDB type (`BIGINT`, `DECIMAL(15,2)`, `DATE`, `VARCHAR`…), mapped by the adapter. */
  type: string;
}

/** Up to `batchSize` rows of one result, as JSON-safe values keyed by column name. */
export interface RowBatch {
  columns: readonly ColumnSpec[];
  rows: readonly Record<string, unknown>[];
}

/** The source warehouse (Snowflake in AWS, embedded DuckDB locally). */
export interface Warehouse {
  /** Runs one statement and yields its rows in batches; errors name the statement. */
  query(sql: string, options: { batchSize: number }): AsyncIterable<RowBatch>;
  close(): Promise<void>;
}
