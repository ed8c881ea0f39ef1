import { BadInputError } from '../errors/index.js';
import type { CatalogColumn, CatalogColumnType } from '../ports/index.js';

/** DuckDB's names for the types a written Parquet file reads back as, in the catalog's words. */
const CATALOG_TYPE: Record<string, CatalogColumnType> = {
  BOOLEAN: 'BOOLEAN',
  TINYINT: 'INTEGER',
  SMALLINT: 'INTEGER',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  FLOAT: 'DOUBLE',
  DOUBLE: 'DOUBLE',
  VARCHAR: 'VARCHAR',
  DATE: 'DATE',
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMP',
  // A warehouse's zone-less timestamp (Snowflake's TIMESTAMP_NTZ): Hive's timestamp is too.
  TIMESTAMP: 'TIMESTAMP',
  JSON: 'JSON',
};

/**
 * The catalog columns of a Parquet file as DuckDB reads it back (`describe` of a
 * `read_parquet`): the types the file holds, so the table matches every file the stage writes.
 * A type the catalog cannot name is bad input, named with its column.
 *
 * @param described - `describe` rows: `column_name`, `column_type`
 * @param dataset - the dataset, for the error
 */
export const catalogColumns = (
  described: readonly Record<string, unknown>[],
  dataset: string
): CatalogColumn[] =>
  described.map((row) => {
    const name = String(row.column_name);
    const type = String(row.column_type);
    const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
    const mapped = decimal
      ? (`DECIMAL(${Number(decimal[1])},${Number(decimal[2])})` as const)
      : CATALOG_TYPE[type];
    if (!mapped) {
      throw new BadInputError(
        `catalog ${dataset}: column ${name} has type ${type}, which the catalog has no name for`
      );
    }
    return { name, type: mapped };
  });
