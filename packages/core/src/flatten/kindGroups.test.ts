import { describe, expect, it } from 'vitest';
import { groupType, kindGroups, orderGroups } from './kindGroups.js';

describe('Function: kindGroups', () => {
  it('gives lists of one scalar kind a group per depth, integers and doubles one DOUBLE list', () => {
    // Act
    const { group, types } = kindGroups([
      'VARCHAR',
      'BIGINT[]',
      'DOUBLE[]',
      'DOUBLE[][][][]',
      'DOUBLE[][][]',
      'OBJECT',
    ]);
    const groups = orderGroups(group.values());

    // Assess: scalars first, then lists shallowest first; the path's own column the first
    expect(groups).toEqual(['text', 'list1', 'list3', 'list4', 'json']);
    expect(groups.map((g) => groupType(g, types))).toEqual([
      'VARCHAR',
      'DOUBLE[]',
      'DOUBLE[][][]',
      'DOUBLE[][][][]',
      'JSON',
    ]);
  });

  it('keeps lists with the JSON values where their depth holds another element or the registry keeps them', () => {
    // Act
    const mixed = kindGroups(['VARCHAR[]', 'BIGINT[]']);
    const kept = kindGroups(['VARCHAR', 'VARCHAR[]'], false);

    // Assess
    expect([...mixed.group]).toEqual([
      ['VARCHAR[]', 'list1'],
      ['BIGINT[]', 'json'],
    ]);
    expect([...kept.group]).toEqual([
      ['VARCHAR', 'text'],
      ['VARCHAR[]', 'json'],
    ]);
  });
});
