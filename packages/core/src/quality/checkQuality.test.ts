import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/index.js';
import { brokenRows, checkQuality } from './checkQuality.js';
import { parseQualityRules } from './rules.js';

let engine: DuckDbEngine;

const NOW = new Date('2026-03-01T00:00:00Z');

beforeEach(async () => {
  engine = await DuckDbEngine.create();
  await engine.run(`
    create table silver_customer (c_custkey bigint);
    insert into silver_customer values (1), (2), (3);
    create table good (customer_id bigint, region varchar, orders bigint, code varchar, last_order date);
    insert into good values
      (1, 'AMERICA', 3, 'AB-1', date '2026-02-20'),
      (2, 'EUROPE', 0, 'CD-22', date '2026-01-15'),
      (3, null, 7, null, null);
  `);
});

afterEach(() => {
  engine.close();
});

/** `good` with one more row, the crafted bad one. */
const withRow = async (row: string) => {
  await engine.run(`create table bad as select * from good; insert into bad values ${row}`);
};

const check = (relation: string, rule: string, previousRows?: number) =>
  checkQuality(engine, {
    dataset: 'example',
    relation,
    rules: parseQualityRules(`-- tests: ${rule}\nselect 1`),
    runId: 'run-1',
    now: NOW,
    ...(previousRows === undefined ? {} : { previousRows }),
  });

describe('Function: checkQuality', () => {
  it.each([
    ['not_null', 'not_null(customer_id, orders)', "(4, 'ASIA', null, 'EF-3', date '2026-02-01')"],
    ['unique', 'unique(customer_id)', "(2, 'ASIA', 1, 'EF-3', date '2026-02-01')"],
    [
      'accepted_values',
      'accepted_values(region: AMERICA | EUROPE)',
      "(4, 'ASIA', 1, 'EF-3', date '2026-02-01')",
    ],
    ['range', 'range(orders: 0..10)', "(4, 'EUROPE', 11, 'EF-3', date '2026-02-01')"],
    ['regex', 'regex(code: /[A-Z]{2}-[0-9]+/)', "(4, 'EUROPE', 1, 'ef3', date '2026-02-01')"],
    [
      'relationships',
      'relationships(customer_id: silver.customer.c_custkey)',
      "(9, 'EUROPE', 1, 'EF-3', date '2026-02-01')",
    ],
  ])('%s fires on the crafted bad row and passes on good data', async (_, rule, row) => {
    // Prepare
    await withRow(row);

    // Act
    const good = await check('good', rule);
    const bad = await check('bad', rule);

    // Assess
    expect(good).toMatchObject({
      passed: true,
      rows: 3,
      rules: [{ rule, passed: true, failing: 0 }],
    });
    expect(bad).toMatchObject({
      passed: false,
      rows: 4,
      rules: [{ rule, severity: 'error', passed: false }],
    });
    expect(bad.rules[0]?.failing).toBeGreaterThan(0);
  });

  it('freshness fails when the newest value is older than its age at the run, and passes otherwise', async () => {
    // Act
    const fresh = await check('good', 'freshness(last_order: 10 days)');
    const stale = await check('good', 'freshness(last_order: 5 days)');

    // Assess
    expect(fresh.rules[0]).toMatchObject({ passed: true, failing: 0 });
    expect(stale.rules[0]).toMatchObject({ passed: false, failing: 1 });
    expect(stale.rules[0]?.detail).toContain('newest last_order is 2026-02-20');
  });

  it('row_count_change fails past its share of the last run, and a first run passes', async () => {
    // Act
    const first = await check('good', 'row_count_change(20%)');
    const steady = await check('good', 'row_count_change(20%)', 3);
    const jumped = await check('good', 'row_count_change(20%)', 10);

    // Assess
    expect([first.passed, steady.passed, jumped.passed]).toEqual([true, true, false]);
    expect(jumped.rules[0]?.detail).toBe(
      '3 rows against 10 in the last run: 70.0% change, over 20%'
    );
  });

  it('reports a warn rule that fails without failing the dataset', async () => {
    // Prepare
    await withRow("(4, 'ASIA', 1, 'EF-3', date '2026-02-01')");

    // Act
    const report = await check('bad', 'warn accepted_values(region: AMERICA | EUROPE)');

    // Assess
    expect(report).toMatchObject({
      passed: true,
      rules: [{ severity: 'warn', passed: false, failing: 1 }],
    });
  });
});

describe('Function: brokenRows', () => {
  it('selects the rows that broke the failed error rules, each with its rule', async () => {
    // Prepare
    await withRow("(2, 'ASIA', 11, 'EF-3', date '2026-02-01')");
    const rules = parseQualityRules(
      '-- tests: unique(customer_id); range(orders: 0..10); warn accepted_values(region: AMERICA | EUROPE)\nselect 1'
    );
    const report = await checkQuality(engine, {
      dataset: 'example',
      relation: 'bad',
      rules,
      runId: 'r',
      now: NOW,
    });

    // Act
    const rows = await engine.all(
      `select customer_id, orders, _quality_rule from (${brokenRows('bad', rules, report)}) order by all`
    );

    // Assess
    expect(rows).toEqual([
      { customer_id: '2', orders: '0', _quality_rule: 'unique(customer_id)' },
      { customer_id: '2', orders: '11', _quality_rule: 'range(orders: 0..10)' },
      { customer_id: '2', orders: '11', _quality_rule: 'unique(customer_id)' },
    ]);
  });
});
