import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, CatalogColumn, TableDefinition } from './Catalog.js';

/**
 * The behaviour every {@link Catalog} adapter must show, as a vitest suite.
 *
 * Each test upserts its own table, so the suite can share a catalog with other suites. The
 * factory is called once, in the suite's `beforeAll`. Types are the engine's own, so the suite
 * compares column names and whether a type changed, not type names.
 *
 * @param name - the adapter and backend, for the suite's title
 * @param factory - returns the catalog under test
 * @example
 * describe.each([['GlueCatalog on a fake Glue', () => catalog]])('%s', (name, factory) => {
 *   catalogContract(name, factory);
 * });
 */
export const catalogContract = (name: string, factory: () => Catalog | Promise<Catalog>): void => {
  describe(`Contract: Catalog (${name})`, () => {
    let catalog: Catalog;
    let tables = 0;
    const definition = (
      columns: CatalogColumn[],
      table = `contract_${Date.now().toString(36)}_${++tables}`
    ): TableDefinition => ({
      table,
      location: `silver/${table}/`,
      columns,
      partitionKeys: [
        { key: 'year', values: ['2024', '__HIVE_DEFAULT_PARTITION__'] },
        { key: 'mode', values: ['web'] },
      ],
    });
    const names = (columns: readonly { name: string }[]) => columns.map((column) => column.name);

    beforeAll(async () => {
      catalog = await factory();
    });

    it('creates a table with the definition’s columns and one column per partition key', async () => {
      // Prepare
      const table = definition([
        { name: 'user_id', type: 'BIGINT' },
        { name: 'page', type: 'VARCHAR' },
      ]);

      // Act
      const result = await catalog.upsertTable(table);

      // Assess
      expect(result.change).toBe('created');
      expect(result.name.endsWith(`.${table.table}`)).toBe(true);
      expect(names(result.columns)).toEqual(['user_id', 'page']);
      expect(result.partitionColumns).toEqual(['year', 'mode']);
    });

    it('leaves a table unchanged when the definition is the same', async () => {
      // Prepare
      const table = definition([{ name: 'user_id', type: 'BIGINT' }]);
      const created = await catalog.upsertTable(table);

      // Act
      const again = await catalog.upsertTable(table);

      // Assess
      expect(again).toEqual({ ...created, change: 'unchanged' });
    });

    it('adds new columns and keeps the columns a definition no longer names', async () => {
      // Prepare
      const first = definition([
        { name: 'user_id', type: 'BIGINT' },
        { name: 'legacy', type: 'VARCHAR' },
      ]);
      await catalog.upsertTable(first);

      // Act
      const result = await catalog.upsertTable({
        ...first,
        columns: [
          { name: 'user_id', type: 'BIGINT' },
          { name: 'device_os', type: 'VARCHAR' },
        ],
      });

      // Assess
      expect(result.change).toBe('updated');
      expect(names(result.columns)).toEqual(['user_id', 'legacy', 'device_os']);
    });

    it('takes the definition’s type for a column it names with a new type', async () => {
      // Prepare
      const first = definition([{ name: 'amount', type: 'BIGINT' }]);
      const before = await catalog.upsertTable(first);

      // Act
      const after = await catalog.upsertTable({
        ...first,
        columns: [{ name: 'amount', type: 'DOUBLE' }],
      });

      // Assess
      expect(after.change).toBe('updated');
      expect(names(after.columns)).toEqual(['amount']);
      expect(after.columns[0]?.type).not.toBe(before.columns[0]?.type);
    });

    it('keeps every column when upserts of one table race', async () => {
      // Prepare: each writer adds a column of its own to one table
      const base = definition([{ name: 'user_id', type: 'BIGINT' }]);
      await catalog.upsertTable(base);
      const added = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => `only_${name}`);

      // Act
      await Promise.all(
        added.map((name) => catalog.upsertTable({ ...base, columns: [{ name, type: 'VARCHAR' }] }))
      );

      // Assess
      const after = await catalog.upsertTable(base);
      expect(names(after.columns).sort()).toEqual([...added, 'user_id'].sort());
    });

    it('names a partition column <key>_partition when a data column has the key’s name', async () => {
      // Act
      const result = await catalog.upsertTable(
        definition([
          { name: 'mode', type: 'VARCHAR' },
          { name: 'amount', type: 'DOUBLE' },
        ])
      );

      // Assess
      expect(names(result.columns)).toEqual(['mode', 'amount']);
      expect(result.partitionColumns).toEqual(['year', 'mode_partition']);
    });

    it('shows a merge-on-read table without its sequence, and changes it when its files do', async () => {
      // Prepare
      const base = definition([
        { name: 'user_id', type: 'BIGINT' },
        { name: '_silver_seq', type: 'BIGINT' },
      ]);
      const files = [`${base.location}part-r1-s1-0.parquet`];
      const table = { ...base, partitionKeys: [], merge: { key: ['user_id'], files } };

      // Act
      const created = await catalog.upsertTable(table);
      const again = await catalog.upsertTable(table);
      const delta = `${base.location}part-r2-s2-0.parquet`;
      const moved = await catalog.upsertTable({
        ...table,
        merge: { key: ['user_id'], files: [...files, delta] },
      });

      // Assess
      expect([created.change, again.change, moved.change]).toEqual([
        'created',
        'unchanged',
        'updated',
      ]);
      expect(created.name.endsWith(`.${base.table}`)).toBe(true);
      expect(names(created.columns)).toEqual(['user_id']);
      expect(created.partitionColumns).toEqual([]);
    });
  });
};
