import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import {
  DynamoDbLedger,
  DynamoDbWatermarkStore,
  S3ObjectStore,
  SageMakerFeatureSink,
  warehouseFor,
} from '@strata/core/adapters';
import { BadInputError } from '@strata/core/errors';
import { Resource } from 'sst';
import type { Platform, PlatformProvider } from './platform.js';

let platform: Platform | undefined;

/** A Secrets Manager secret as text, cached for five minutes across warm invocations. */
const readSecret = async (id: string): Promise<string> => {
  const value = await getSecret(id, { maxAge: 300 });
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw new BadInputError(`secret ${id} has no value`);
};

/**
 * The AWS platform: linked resources from SST, SDK clients created once per container.
 */
export const awsPlatform: PlatformProvider = () => {
  platform ??= buildPlatform();
  return platform;
};

const buildPlatform = (): Platform => {
  const store = new S3ObjectStore({ bucket: Resource.Lake.name });
  return {
    store,
    watermarks: new DynamoDbWatermarkStore({ tableName: Resource.Watermarks.name }),
    ledger: new DynamoDbLedger({ tableName: Resource.Ledger.name }),
    warehouse: (config) => warehouseFor(config, { secret: readSecret, store }),
    featureSink: () => new SageMakerFeatureSink(),
    featureGroup: () => Resource.FeatureGroup.name,
  };
};
