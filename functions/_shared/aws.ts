import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import {
  DynamoDbLedger,
  DynamoDbWatermarkStore,
  GlueCatalog,
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

/** Builds a value on first use and keeps it. */
const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
};

/**
 * Each function links only the resources it uses, and SST throws when an unlinked one is read,
 * so everything but the lake is built on first use, by the handlers that need it.
 */
const buildPlatform = (): Platform => {
  const store = new S3ObjectStore({ bucket: Resource.Lake.name });
  const watermarks = once(
    () => new DynamoDbWatermarkStore({ tableName: Resource.Watermarks.name })
  );
  const ledger = once(() => new DynamoDbLedger({ tableName: Resource.Ledger.name }));
  const catalog = once(
    () => new GlueCatalog({ database: Resource.Catalog.name, bucket: Resource.Lake.name })
  );
  return {
    store,
    get watermarks() {
      return watermarks();
    },
    get ledger() {
      return ledger();
    },
    get catalog() {
      return catalog();
    },
    warehouse: (config) => warehouseFor(config, { secret: readSecret, store }),
    featureSink: () => new SageMakerFeatureSink(),
    featureGroup: () => Resource.FeatureGroup.name,
  };
};
