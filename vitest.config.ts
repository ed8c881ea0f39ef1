import { defineConfig } from 'vitest/config';

const resultsFile = process.env.STRATA_TEST_RESULTS;

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'functions/**/*.test.ts',
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One process per file: the embedded runtime binds env-configured SDK clients once per process.
    pool: 'forks',
    reporters: resultsFile ? ['default', ['json', { outputFile: resultsFile }]] : ['default'],
  },
});
