import { describe, expect, it } from 'vitest';
import { engineOptions } from './engine.js';

describe('Function: engineOptions', () => {
  it.each([
    ['1024', { threads: 1, memoryLimit: '614MB' }],
    ['2048', { threads: 1, memoryLimit: '1228MB' }],
    ['3538', { threads: 2, memoryLimit: '2122MB' }],
    ['10240', { threads: 5, memoryLimit: '6144MB' }],
  ])('sizes DuckDB to a %s MB function', (memory, expected) => {
    // Act
    const options = engineOptions({ memoryLimitInMB: memory });

    // Assess
    expect(options).toEqual(expected);
  });

  it.each([
    ['no', {}],
    ['a malformed', { memoryLimitInMB: 'lots' }],
  ])(
    'sizes DuckDB as a 2048 MB function, with a memory limit, for %s memory in the context',
    (_, env) => {
      // Act
      const options = engineOptions(env);

      // Assess
      expect(options).toEqual({ threads: 1, memoryLimit: '1228MB' });
    }
  );
});
