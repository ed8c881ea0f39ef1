import { describe, expect, it } from 'vitest';
import { parseQualityRules } from './rules.js';

describe('Function: parseQualityRules', () => {
  it('reads every rule kind from the header, warn ones included', () => {
    // Prepare
    const sql = [
      '-- model:  gold.example',
      '-- tests:  unique(customer_id); not_null(customer_id, order_count)',
      '-- tests:  range(order_count: 0..); warn range(avg: -1.5..2e3); accepted_values(region: AMERICA | EUROPE)',
      '-- tests:  regex(code: /[A-Z]{2};[0-9]+/); relationships(customer_id: silver.customer.c_custkey)',
      '-- tests:  freshness(last_order_date: 400 days); warn row_count_change(20%)',
      'select 1',
    ].join('\n');

    // Act
    const rules = parseQualityRules(sql);

    // Assess
    expect(rules.map(({ declared: _, ...rule }) => rule)).toEqual([
      { severity: 'error', kind: 'unique', columns: ['customer_id'] },
      { severity: 'error', kind: 'not_null', columns: ['customer_id', 'order_count'] },
      { severity: 'error', kind: 'range', column: 'order_count', min: 0 },
      { severity: 'warn', kind: 'range', column: 'avg', min: -1.5, max: 2000 },
      {
        severity: 'error',
        kind: 'accepted_values',
        column: 'region',
        values: ['AMERICA', 'EUROPE'],
      },
      { severity: 'error', kind: 'regex', column: 'code', pattern: '[A-Z]{2};[0-9]+' },
      {
        severity: 'error',
        kind: 'relationships',
        column: 'customer_id',
        relation: 'silver_customer',
        to: 'c_custkey',
      },
      { severity: 'error', kind: 'freshness', column: 'last_order_date', maxAgeDays: 400 },
      { severity: 'warn', kind: 'row_count_change', maxPercent: 20 },
    ]);
    expect(rules[3]?.declared).toBe('warn range(avg: -1.5..2e3)');
  });

  it.each([
    ['a column name that is SQL', 'not_null(id; drop table x)', /not a column name|expected/],
    ['an unknown rule', 'positive(amount)', /unknown rule "positive"/],
    ['a range without its dots', 'range(amount: 5)', /<min>\.\.<max>/],
    ['a pattern without slashes', 'regex(code: [0-9]+)', /between slashes/],
    ['a freshness without days', 'freshness(at: soon)', /<n> days/],
  ])('refuses %s with Strata.BadInput', (_, rule, message) => {
    // Act
    const parse = () => parseQualityRules(`-- tests: ${rule}\nselect 1`);

    // Assess
    expect(parse).toThrow(
      expect.objectContaining({ name: 'Strata.BadInput', message: expect.stringMatching(message) })
    );
  });
});
