import { beforeAll, describe, expect, it } from 'vitest';

let stageSecretId: (id: string, stage?: string) => string;

beforeAll(async () => {
  // What SST gives every function: its app and stage.
  process.env.SST_RESOURCE_App = JSON.stringify({ name: 'strata', stage: 'staging' });
  ({ stageSecretId } = await import('./awsWarehouse.js'));
});

describe('Function: stageSecretId', () => {
  it("fills {stage} with the function's own stage", () => {
    // Act
    const id = stageSecretId('strata/{stage}/snowflake/private-key');

    // Assess
    expect(id).toBe('strata/staging/snowflake/private-key');
  });

  it('leaves an id without {stage} as it is', () => {
    // Act
    const id = stageSecretId('strata/snowflake/private-key', 'prod');

    // Assess
    expect(id).toBe('strata/snowflake/private-key');
  });
});
