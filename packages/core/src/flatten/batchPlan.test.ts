import { describe, expect, it } from 'vitest';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { hasField, kindsAt, planBatch, structureOf } from './batchPlan.js';
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

describe('Function: kindsAt', () => {
  it('finds the kinds at 700 paths of one record within 128 MB', async () => {
    // Prepare: one record (caniuse-db's data.json is one) of 700 fields, each of two kinds
    // across its lists: an aggregate per path took 12 s and 3 GB there
    const paths = Array.from({ length: 700 }, (_, n) => `f${n}`);
    const record = Object.fromEntries(paths.map((path, n) => [path, n % 2 ? 'text' : n]));
    const values = `select ${quoteLiteral(JSON.stringify(record))}::json as json union all select '{"f1": 5, "f2": null}'::json`;

    // Act
    const kinds = await DuckDbEngine.use({ threads: 1, memoryLimit: '128MB' }, (engine) =>
      kindsAt(
        engine,
        values,
        paths.map((path) => jsonPath([path]))
      )
    );

    // Assess: text and integers where both were seen, JSON's null as a kind, a missing key none
    expect(kinds.size).toBe(700);
    expect(kinds.get(jsonPath(['f0']))).toEqual(['UBIGINT']);
    expect(kinds.get(jsonPath(['f1']))).toEqual(['UBIGINT', 'VARCHAR']);
    expect(kinds.get(jsonPath(['f2']))).toEqual(['NULL', 'UBIGINT']);
    expect(kinds.get(jsonPath(['f699']))).toEqual(['VARCHAR']);
  });
});
