import { describe, expect, it } from 'vitest';
import { hasField, planBatch, structureOf } from './batchPlan.js';
import type { FlatColumn } from './flattenPlan.js';
import { jsonPath } from './structure.js';
import type { FlattenBatchOptions } from './types.js';

const OPTIONS: FlattenBatchOptions = {
  separator: '_',
  maxDepth: 3,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: true,
  explode: [['payload', 'items']],
};

/** A batch's records: a nested user, an array of items, and fields named like silver's own. */
const STRUCTURE = {
  DATE: 'VARCHAR',
  MODE: 'VARCHAR',
  user: { id: 'BIGINT', name: 'VARCHAR' },
  user_id: 'VARCHAR',
  payload: { items: [{ sku: 'VARCHAR' }], amount: 'DOUBLE' },
};

const column = (keys: string[], name: string, type: FlatColumn['type']): FlatColumn => ({
  name,
  path: jsonPath(keys),
  type,
});

describe('Function: planBatch', () => {
  it('plans a first batch of a feed from its records alone, partition-like names suffixed', () => {
    // Act
    const { columns, arrays } = planBatch(STRUCTURE, {
      feed: 'clickstream',
      options: OPTIONS,
      registry: [],
    });

    // Assess
    expect(arrays).toEqual([
      { dataset: 'clickstream__payload_items', path: jsonPath(['payload', 'items']) },
    ]);
    expect(columns.map((c) => [c.name, c.type])).toEqual([
      ['date', 'VARCHAR'],
      ['mode_2', 'VARCHAR'],
      ['user_id', 'BIGINT'],
      ['user_name', 'VARCHAR'],
      ['user_id_2', 'VARCHAR'],
      ['payload_amount', 'DOUBLE'],
    ]);
  });

  it("keeps a registered column's name and type, and gives new columns names the registry does not use", () => {
    // Arrange: an earlier run registered `user_id` for the top-level field, and `user.id` as
    // `user_id_2`; this batch's top-level user_id holds numbers, but the column stays VARCHAR.
    const registry = [
      column(['user_id'], 'user_id', 'VARCHAR'),
      column(['user', 'id'], 'user_id_2', 'BIGINT'),
      column(['gone'], 'user_name', 'VARCHAR'),
    ];

    // Act
    const { columns } = planBatch(
      { ...STRUCTURE, user_id: 'BIGINT' },
      { feed: 'clickstream', options: OPTIONS, registry }
    );

    // Assess
    expect(columns.map((c) => [c.path, c.name, c.type])).toEqual([
      [jsonPath(['DATE']), 'date', 'VARCHAR'],
      [jsonPath(['MODE']), 'mode_2', 'VARCHAR'],
      [jsonPath(['user', 'id']), 'user_id_2', 'BIGINT'],
      [jsonPath(['user', 'name']), 'user_name_2', 'VARCHAR'],
      [jsonPath(['user_id']), 'user_id', 'VARCHAR'],
      [jsonPath(['payload', 'amount']), 'payload_amount', 'DOUBLE'],
    ]);
  });
});

describe('Function: structureOf', () => {
  it('turns registered columns back into the structure that plans them again', () => {
    // Arrange
    const registry = planBatch(STRUCTURE, {
      feed: 'clickstream',
      options: { ...OPTIONS, explode: [] },
      registry: [],
    }).columns;

    // Act
    const replanned = planBatch(structureOf(registry), {
      feed: 'clickstream',
      options: { ...OPTIONS, explode: [] },
      registry: [],
    }).columns;

    // Assess
    expect(replanned).toEqual(registry);
  });
});

describe('Function: hasField', () => {
  it('finds a top-level field whatever its case, as DuckDB names do', () => {
    expect(hasField({ File_Index: 'BIGINT' }, 'file_index')).toBe(true);
    expect(hasField({ meta: { file_index: 'BIGINT' } }, 'file_index')).toBe(false);
    expect(hasField('VARCHAR', 'file_index')).toBe(false);
  });
});
