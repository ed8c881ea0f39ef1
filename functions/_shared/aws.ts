import {
  DynamoDbWatermarkStore,
  S3ObjectStore,
  SageMakerFeatureSink,
  warehouseFor,
} from '@strata/core/adapters';
import { Resource } from 'sst';
import type { Platform, PlatformProvider } from './platform.js';

let platform: Platform | undefined;

/**
 * The AWS platform: linked resources from SST, SDK clients created once per container.
 */
export const awsPlatform: PlatformProvider = () => {
  platform ??= {
    store: new S3ObjectStore({ bucket: Resource.Lake.name }),
    watermarks: new DynamoDbWatermarkStore({ tableName: Resource.Watermarks.name }),
    warehouse: warehouseFor,
    featureSink: () => new SageMakerFeatureSink(),
    featureGroup: () => Resource.FeatureGroup.name,
  };
  return platform;
};
