import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/index.js';
import {
  type ContractConfig,
  qualityScore,
  rejectReason,
  standardisedColumns,
} from './contract.js';

const COLUMNS = [
  { name: 'C_CUSTKEY', type: 'BIGINT' },
  { name: 'C_NAME', type: 'VARCHAR' },
  { name: 'C_ADDRESS', type: 'VARCHAR' },
  { name: 'C_PHONE', type: 'VARCHAR' },
  { name: 'C_MKTSEGMENT', type: 'VARCHAR' },
];

const CONTRACT: ContractConfig = {
  required: ['C_NAME'],
  upper: ['C_MKTSEGMENT'],
  lower: [],
  phone: ['C_PHONE'],
  address: ['C_ADDRESS'],
};

describe('silver contract', () => {
  it('trims text, applies case, phone and address rules, scores and rejects each row', async () => {
    // Prepare
    const rows = await DuckDbEngine.use({}, async (engine) => {
      await engine.run(`
        create table bronze as select * from (values
          (1, '  Ann ', '1   Main\tSt ', '25-989-741-2988', 'building'),
          (2, 'Bob', '  ', 'call me', 'Machinery '),
          (3, '', '3 Road', '(555) 010-9999', null),
          (null, 'Nobody', null, null, null)
        ) as t(C_CUSTKEY, C_NAME, C_ADDRESS, C_PHONE, C_MKTSEGMENT);
        alter table bronze add column _source_system varchar;
        alter table bronze add column _source_query_sha256 varchar;
        alter table bronze add column _extracted_at timestamptz;
        alter table bronze add column _execution_id varchar;
        alter table bronze add column _batch integer;`);

      // Act
      return engine.all(`
        select c_custkey, c_name, c_address, c_phone, c_mktsegment,
          ${qualityScore(COLUMNS, CONTRACT)} as score,
          ${rejectReason(['C_CUSTKEY'], CONTRACT)} as reason
        from (select ${standardisedColumns(COLUMNS, CONTRACT)} from bronze)
        order by c_custkey nulls last`);
    });

    // Assess: six checks a row, five columns with a value and a phone that is one
    expect(rows).toEqual([
      {
        c_custkey: 1,
        c_name: 'Ann',
        c_address: '1 Main St',
        c_phone: '+259897412988',
        c_mktsegment: 'BUILDING',
        score: 1,
        reason: null,
      },
      {
        c_custkey: 2,
        c_name: 'Bob',
        c_address: null,
        c_phone: 'call me',
        c_mktsegment: 'MACHINERY',
        score: 0.6667,
        reason: null,
      },
      {
        c_custkey: 3,
        c_name: null,
        c_address: '3 Road',
        c_phone: '+5550109999',
        c_mktsegment: null,
        score: 0.6667,
        reason: 'required column C_NAME is null',
      },
      {
        c_custkey: null,
        c_name: 'Nobody',
        c_address: null,
        c_phone: null,
        c_mktsegment: null,
        score: 0.1667,
        reason: 'primary key (C_CUSTKEY) is null',
      },
    ]);
  });
});
