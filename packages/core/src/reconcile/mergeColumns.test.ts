import { describe, expect, it } from 'vitest';
import { mergeColumns } from './runReconcile.js';

describe('Function: mergeColumns', () => {
  it('widens integers to doubles, anything else that disagrees to JSON, and keeps every column', () => {
    // Prepare
    const first = [
      { name: 'amount', path: '$."amount"', type: 'BIGINT' as const },
      { name: 'code', path: '$."code"', type: 'BIGINT' as const },
    ];
    const second = [
      { name: 'amount', path: '$."amount"', type: 'DOUBLE' as const },
      { name: 'code', path: '$."code"', type: 'VARCHAR' as const },
      { name: 'late', path: '$."late"', type: 'BOOLEAN' as const },
    ];

    // Act
    const merged = mergeColumns([first, second]);

    // Assess
    expect(merged).toEqual([
      { name: 'amount', path: '$."amount"', type: 'DOUBLE' },
      { name: 'code', path: '$."code"', type: 'JSON' },
      { name: 'late', path: '$."late"', type: 'BOOLEAN' },
    ]);
  });
});
