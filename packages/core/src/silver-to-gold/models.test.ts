import { describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { GOLD_MODELS, loadGoldModel, parseModel } from './models.js';

const body = 'with x as (select 1 as a)\nselect * from x';

describe('Function: parseModel', () => {
  it('reads the grain and the inputs without their silver. prefix', () => {
    // Prepare
    const sql = `-- model:  gold.m\n-- grain:  one row per thing\n-- inputs: silver.orders,  silver.customer ,lineitem\n${body}`;

    // Act
    const model = parseModel('m', sql);

    // Assess
    expect(model).toEqual({
      name: 'm',
      grain: 'one row per thing',
      inputs: ['orders', 'customer', 'lineitem'],
      sql,
    });
  });

  it.each([
    ['no "-- grain:"', `-- inputs: silver.orders\n${body}`],
    ['no "-- inputs:"', `-- grain: one row per order\n${body}`],
    ['no header at all', body],
    ['an empty "-- inputs:"', `-- grain: one row per order\n-- inputs:\n${body}`],
    ['an empty "-- grain:"', `-- grain:\n-- inputs: silver.orders\n${body}`],
  ])('rejects a file with %s as Strata.BadInput', (_label, sql) => {
    // Act
    const act = () => parseModel('broken', sql);

    // Assess
    expect(act).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
    expect(act).toThrow(/model broken/);
  });
});

describe('Function: loadGoldModel', () => {
  it.each(GOLD_MODELS)('loads %s with a grain and non-empty inputs', async (name) => {
    // Act
    const model = await loadGoldModel(name);

    // Assess
    expect(model.name).toBe(name);
    expect(model.grain).not.toBe('');
    expect(model.inputs.length).toBeGreaterThan(0);
    expect(model.inputs.every((input) => /^[a-z_]+$/.test(input))).toBe(true);
  });

  it.each(GOLD_MODELS)(
    'declares in %s exactly the silver relations its body reads',
    async (name) => {
      // Prepare
      const model = await loadGoldModel(name);
      const code = model.sql
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n');

      // Act
      const used = [...new Set([...code.matchAll(/\bsilver_([a-z_]+)/g)].map((m) => m[1]))];

      // Assess
      expect(used.sort()).toEqual([...model.inputs].sort());
    }
  );
});
