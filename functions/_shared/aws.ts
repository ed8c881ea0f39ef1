import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDbCircuitBreaker,
  DynamoDbLedger,
  DynamoDbWatermarkStore,
  GlueCatalog,
  S3ObjectStore,
  SageMakerFeatureGroups,
  SageMakerFeatureSink,
  SnsNotifier,
  SqsDeadLetterQueue,
} from '@strata/core/adapters';
import { TerminalError } from '@strata/core/errors';
import { Resource } from 'sst';
import type { Platform, PlatformProvider } from './platform.js';

/** Connects to the configured warehouse; only Extract has one (see awsWarehouse.ts). */
export type WarehouseFactory = (store: Platform['store']) => Platform['warehouse'];

/** Builds a value on first use and keeps it. */
const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
};

/** What a function without a warehouse answers if its code ever asks for one. */
const noWarehouse: WarehouseFactory = () => async () => {
  throw new TerminalError('this function is deployed without a warehouse driver');
};

/**
 * Each function links only the resources it uses, and SST throws when an unlinked one is read,
 * so everything but the lake is built on first use, by the handlers that need it.
 */
const buildPlatform = (warehouse: WarehouseFactory): Platform => {
  const store = new S3ObjectStore({ bucket: Resource.Lake.name });
  const watermarks = once(
    () => new DynamoDbWatermarkStore({ tableName: Resource.Watermarks.name })
  );
  const ledger = once(() => new DynamoDbLedger({ tableName: Resource.Ledger.name }));
  const dynamo = once(() => new DynamoDBClient({}));
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
    warehouse: warehouse(store),
    featureSink: () => new SageMakerFeatureSink(),
    featureDeadLetters: () =>
      new SqsDeadLetterQueue({ queueUrl: Resource.FeatureGroup.deadLetterQueueUrl }),
    featureGroup: () => Resource.FeatureGroup.name,
    featureGroups: () => new SageMakerFeatureGroups(),
    notifier: () => new SnsNotifier({ topicArn: Resource.Alerts.arn }),
    breaker: (circuit, settings) =>
      new DynamoDbCircuitBreaker({
        tableName: Resource.Breakers.name,
        circuit,
        settings,
        client: dynamo(),
      }),
  };
};

/**
 * The AWS platform: linked resources from SST, SDK clients created once per container.
 *
 * The warehouse drivers (DuckDB, snowflake-sdk) are native packages installed only into the
 * function that extracts, so they come in through `warehouse` and nowhere else: a handler that
 * imported them here could not load in the functions deployed without them.
 *
 * @param warehouse - the warehouse factory, for Extract only
 */
export const awsPlatformWith = (warehouse: WarehouseFactory = noWarehouse): PlatformProvider =>
  once(() => buildPlatform(warehouse));

/** The AWS platform of every function but Extract. */
export const awsPlatform: PlatformProvider = awsPlatformWith();
