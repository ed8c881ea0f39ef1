import { describe, expect, it } from 'vitest';
import { contractMismatches, parseFeatureContract } from './contract.js';
import { featureRecordSchema, recordProblems } from './recordSchema.js';

const header = `-- model: gold.example
-- record id:  customer_id
-- event time: event_time String
-- feature:    customer_id Integral
-- feature:    total_spent Fractional
-- feature:    nation String
select 1`;

const contract = parseFeatureContract('example', header);

describe('Function: parseFeatureContract', () => {
  it('reads the record id, the features in order and the event time last', () => {
    // Assess
    expect(contract).toEqual({
      model: 'example',
      recordId: 'customer_id',
      eventTime: 'event_time',
      features: [
        { name: 'customer_id', type: 'Integral' },
        { name: 'total_spent', type: 'Fractional' },
        { name: 'nation', type: 'String' },
        { name: 'event_time', type: 'String' },
      ],
    });
  });

  it.each([
    [
      'a type that is no feature type',
      header.replace('nation String', 'nation Text'),
      'feature nation has type Text',
    ],
    [
      'no record id',
      header.replace('-- record id:  customer_id\n', ''),
      'must declare "-- record id:"',
    ],
    [
      'a record id that is no feature',
      header.replace('record id:  customer_id', 'record id:  id'),
      'the record id id is not one of its features',
    ],
    [
      'a feature declared twice',
      `${header}\n-- feature: nation String`,
      'feature nation is declared twice',
    ],
  ])('refuses %s', (_case, sql, message) => {
    // Act
    const act = () => parseFeatureContract('example', sql);

    // Assess
    expect(act).toThrow(message);
  });
});

describe('Function: contractMismatches', () => {
  it('agrees with columns of the declared types, integers and decimals of any width included', () => {
    // Act
    const problems = contractMismatches(contract, [
      { name: 'customer_id', type: 'INTEGER' },
      { name: 'total_spent', type: 'DECIMAL(12,2)' },
      { name: 'nation', type: 'VARCHAR' },
    ]);

    // Assess
    expect(problems).toEqual([]);
  });

  it('names each feature that is missing, of another type, or not declared', () => {
    // Act
    const problems = contractMismatches(contract, [
      { name: 'customer_id', type: 'VARCHAR' },
      { name: 'nation', type: 'VARCHAR' },
      { name: 'region', type: 'VARCHAR' },
      { name: 'event_time', type: 'VARCHAR' },
    ]);

    // Assess
    expect(problems).toEqual([
      'feature customer_id is declared Integral but example gives VARCHAR',
      'feature total_spent (Fractional) is not a column of example',
      'column region of example is not a declared feature',
      'column event_time of example is the event time, which feature-ingest sets',
    ]);
  });
});

describe('Function: featureRecordSchema', () => {
  const schema = featureRecordSchema(contract);
  const valid = {
    customer_id: 7,
    total_spent: 1.5,
    nation: null,
    event_time: '2026-03-01T00:00:00.000Z',
  };

  it('accepts typed values, nulls for features, and big integers as digits', () => {
    // Assess
    expect(schema.safeParse(valid).success).toBe(true);
    expect(schema.safeParse({ ...valid, customer_id: '9007199254740993' }).success).toBe(true);
  });

  it.each([
    ['a fraction for an Integral', { customer_id: 1.5 }, /^customer_id: /],
    ['text for a Fractional', { total_spent: 'a lot' }, /^total_spent: /],
    ['a null record id', { customer_id: null }, /^customer_id: /],
    ['an event time that is no ISO time', { event_time: 'yesterday' }, /^event_time: /],
    ['an undeclared feature', { region: 'EUROPE' }, /^region: not a declared feature$/],
  ])('refuses %s, naming the feature', (_case, change, message) => {
    // Act
    const result = schema.safeParse({ ...valid, ...change });

    // Assess
    expect(result.success).toBe(false);
    expect(recordProblems(result.error as never)).toMatch(message);
  });
});
