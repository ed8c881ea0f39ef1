/** A result column: its name as the warehouse spells it and its DuckDB logical type. */
export interface ColumnSpec {
  name: string;
  /** A DuckDB type (`BIGINT`, `DECIMAL(15,2)`, `DATE`, `VARCHAR`…), mapped by the adapter. */
  type: string;
}

/**
 * Up to `batchSize` rows of one result, keyed by column name, as JSON-safe values that DuckDB
 * reads back as the column's type: numbers or numeric strings, ISO-8601 strings for dates and
 * times (UTC for instants), JSON text for semi-structured values, hex for binary.
 */
export interface RowBatch {
  columns: readonly ColumnSpec[];
  rows: readonly Record<string, unknown>[];
}

/** A bind value for a `?` placeholder. */
export type BindValue = string | number | boolean | null;

export interface QueryOptions {
  /** Rows per yielded batch. */
  batchSize: number;
  /** Values for the statement's `?` placeholders, in order: never pasted into the SQL text. */
  binds?: readonly BindValue[];
  /** Shown in the warehouse's query history (Snowflake's QUERY_TAG), e.g. the execution id. */
  queryTag?: string;
  /** Cancel the statement after this long. */
  timeoutSeconds?: number;
}

/** A constant column an unload appends to every row (Strata's lineage columns). */
export interface LineageColumn {
  name: string;
  value: string | number;
  type: 'varchar' | 'timestamptz' | 'integer';
}

/** One Parquet file an unload wrote, in result order. */
export interface UnloadedFile {
  path: string;
  /** Rows in the file, when the warehouse reports them (the extract counts them otherwise). */
  rows?: number;
}

/** The source warehouse (Snowflake in AWS, embedded DuckDB locally). */
export interface Warehouse {
  /**
   * Runs one statement and yields its rows in batches, pulling the next rows only when the
   * consumer asks (backpressure). Errors name the statement: `Strata.Transient` for what a
   * retry may fix (network, throttling), `Strata.BadInput` for bad SQL, `Strata.Terminal` for
   * authentication and access.
   */
  query(sql: string, options: QueryOptions): AsyncIterable<RowBatch>;
  /**
   * Optional columnar path: the warehouse writes the result itself, with the `lineage` columns
   * appended, as Parquet files of about `batchSize` rows into the local directory `dir`
   * (DuckDB: `COPY ... TO`; Snowflake: `COPY INTO @stage`), so rows never pass through
   * JavaScript and the files are bronze parts as they are.
   */
  unload?(
    sql: string,
    options: QueryOptions & { dir: string; lineage: readonly LineageColumn[] }
  ): Promise<UnloadedFile[]>;
  close(): Promise<void>;
}
