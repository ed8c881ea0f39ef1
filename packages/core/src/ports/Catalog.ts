/** A scalar column type. */
export type ScalarColumnType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';

/**
 * A type of the warehouse's typed columns, as silver entities and gold models keep them:
 * `TIMESTAMP` is an instant (DuckDB's TIMESTAMPTZ, Parquet's UTC-adjusted timestamp).
 */
export type TypedColumnType = 'INTEGER' | 'DATE' | 'TIMESTAMP' | `DECIMAL(${number},${number})`;

/**
 * A LIST of a scalar, or of lists of one at any depth (`DOUBLE[][][]`: GeoJSON's Polygon).
 * TypeScript cannot spell a repetition of any length, so the depth is checked where a type is
 * made (`listShape` in the flatten module).
 */
export type ListColumnType = `${ScalarColumnType}[]${string}`;

/**
 * A column's type as the pipeline writes it: a scalar, a typed warehouse column, JSON text, a
 * LIST of a scalar (nested too), or a MAP from text to a scalar.
 */
export type CatalogColumnType =
  | ScalarColumnType
  | TypedColumnType
  | 'JSON'
  | ListColumnType
  | `MAP(VARCHAR, ${ScalarColumnType})`;

/** One data column of a dataset. */
export interface CatalogColumn {
  name: string;
  type: CatalogColumnType;
  /**
   * What the column holds, shown beside it (Glue's column comment, DuckDB's `COMMENT ON
   * COLUMN`): a flattened column's JSON path in the record, so a name never hides its path.
   */
  comment?: string;
}

/** A hive-style partition key: the `<key>=<value>/` segment of every data object's key. */
export interface CatalogPartitionKey {
  /** The key as the object path spells it (`mode` in `mode=web/`). */
  key: string;
  /**
   * The values written under it so far (`__HIVE_DEFAULT_PARTITION__` for null). Engines that
   * cannot discover partitions on their own (Athena's partition projection) need them; the
   * catalog keeps every value it was ever given.
   */
  values: readonly string[];
}

/** What a dataset's table must be: where its Parquet objects live and what they hold. */
export interface TableDefinition {
  /** The table's name, lower snake case (a silver dataset is named after its feed). */
  table: string;
  /**
   * The lake layer the table belongs to (default `silver`): a gold model's table is
   * `gold_<name>` in Glue's one database, `gold.<name>` locally.
   */
  layer?: 'silver' | 'gold';
  /** The lake prefix holding the data objects, ending in `/` (e.g. `silver/clickstream/`). */
  location: string;
  columns: readonly CatalogColumn[];
  /** In path order. */
  partitionKeys: readonly CatalogPartitionKey[];
  /**
   * A merge-on-read table (unpartitioned): its `files` (lake keys, those its manifest lists)
   * hold versions of rows, `_silver_seq` among the columns, and the table is the latest version
   * of each `key`. The catalog then keeps the files as `<table>__files` and the table as a view
   * of the latest rows of the files listed, so no reader sees two versions of a row, nor a file
   * a run wrote and never published.
   */
  merge?: { key: readonly string[]; files: readonly string[] };
}

/** The table after an upsert, as analysts see it. */
export interface CatalogTable {
  /** The name to query it by: `strata_prod.clickstream` in Athena, `silver.clickstream` locally. */
  name: string;
  change: 'created' | 'updated' | 'unchanged';
  /** Data columns in table order, typed as the engine declares them (`bigint`, `VARCHAR`…). */
  columns: { name: string; type: string }[];
  /** One per partition key, in path order, named as queried (see {@link Catalog}). */
  partitionColumns: string[];
}

/**
 * The data catalog analysts query the lake through (the Glue Data Catalog for Athena in AWS, a
 * DuckDB database of views locally).
 *
 * Tables only grow: an upsert adds the definition's new columns and takes its types for the
 * columns it names, but never drops a column the table already has, so older files stay
 * readable. A data column named like a partition key keeps its name (it holds the record's own
 * value); the partition column is then `<key>_partition`.
 */
export interface Catalog {
  /**
   * Creates the table, or updates it when the definition adds or changes something; leaves it
   * alone otherwise. Safe to call concurrently for the same table.
   */
  upsertTable(definition: TableDefinition): Promise<CatalogTable>;
}
