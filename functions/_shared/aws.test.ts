import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformProvider } from './platform.js';

let awsPlatform: PlatformProvider;

beforeAll(async () => {
  // What SST gives a function that links only the lake (as PlanRun does).
  process.env.SST_RESOURCE_App = JSON.stringify({ name: 'strata', stage: 'test' });
  process.env.SST_RESOURCE_Lake = JSON.stringify({ name: 'strata-test-lake' });
  process.env.AWS_REGION = 'us-east-1';
  ({ awsPlatform } = await import('./aws.js'));
});

describe('Function: awsPlatform', () => {
  it('builds for a function that links only the lake, reading other links only when used', () => {
    // Act
    const platform = awsPlatform();

    // Assess
    expect(platform.store).toBeDefined();
    expect(() => platform.ledger).toThrow(/"Ledger" is not linked/);
    expect(() => platform.catalog).toThrow(/"Catalog" is not linked/);
  });
});
