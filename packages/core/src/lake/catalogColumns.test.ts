import { describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { catalogColumns } from './catalogColumns.js';

describe('Function: catalogColumns', () => {
  it("names each type a Parquet file reads back as in the catalog's words", () => {
    // Prepare
    const described = [
      ['id', 'BIGINT'],
      ['score', 'INTEGER'],
      ['ratio', 'FLOAT'],
      ['price', 'DECIMAL(12,2)'],
      ['day', 'DATE'],
      ['at', 'TIMESTAMP WITH TIME ZONE'],
      ['name', 'VARCHAR'],
      ['flag', 'BOOLEAN'],
    ].map(([column_name, column_type]) => ({ column_name, column_type }));

    // Act
    const columns = catalogColumns(described, 'silver.things');

    // Assess
    expect(columns.map((column) => column.type)).toEqual([
      'BIGINT',
      'INTEGER',
      'DOUBLE',
      'DECIMAL(12,2)',
      'DATE',
      'TIMESTAMP',
      'VARCHAR',
      'BOOLEAN',
    ]);
  });

  it('refuses a type the catalog cannot name, naming the column', () => {
    // Act
    const act = () =>
      catalogColumns([{ column_name: 'blob', column_type: 'BLOB' }], 'silver.things');

    // Assess
    expect(act).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
    expect(act).toThrow('catalog silver.things: column blob has type BLOB');
  });
});
