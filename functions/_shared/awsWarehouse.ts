import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { warehouseFor } from '@strata/core/adapters';
import { BadInputError } from '@strata/core/errors';
import type { WarehouseFactory } from './aws.js';

/** A Secrets Manager secret as text, cached for five minutes across warm invocations. */
const readSecret = async (id: string): Promise<string> => {
  const value = await getSecret(id, { maxAge: 300 });
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw new BadInputError(`secret ${id} has no value`);
};

/** The configured warehouse, its key from Secrets Manager: Extract's, which installs the drivers. */
export const awsWarehouse: WarehouseFactory = (store) => (config) =>
  warehouseFor(config, { secret: readSecret, store });
