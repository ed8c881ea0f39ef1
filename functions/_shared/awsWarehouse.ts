import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { warehouseFor } from '@strata/core/adapters';
import { BadInputError } from '@strata/core/errors';
import { Resource } from 'sst';
import type { WarehouseFactory } from './aws.js';

/**
 * A secret id from the config with `{stage}` replaced by this function's stage: one config file
 * serves every stage, and each stage's Extract may read only `strata/<its stage>/snowflake/*`
 * (stacks/pipeline.ts).
 *
 * @example
 * stageSecretId('strata/{stage}/snowflake/private-key', 'prod'); // 'strata/prod/snowflake/private-key'
 * @param id - the config's secret id
 * @param stage - the deployed stage
 */
export const stageSecretId = (id: string, stage: string = Resource.App.stage): string =>
  id.replaceAll('{stage}', stage);

/** A Secrets Manager secret as text, cached for five minutes across warm invocations. */
const readSecret = async (id: string): Promise<string> => {
  const value = await getSecret(stageSecretId(id), { maxAge: 300 });
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw new BadInputError(`secret ${id} has no value`);
};

/** The configured warehouse, its key from Secrets Manager: Extract's, which installs the drivers. */
export const awsWarehouse: WarehouseFactory = (store) => (config) =>
  warehouseFor(config, { secret: readSecret, store });
