// The SageMaker feature group feature-ingest writes to: an online store for serving and an
// offline store on the lake under feature-store/, encrypted with the lake's key, with its Glue
// table in the catalog. Its features are the ones gold ml_features' header declares.
import { readFileSync } from 'node:fs';
import { GLUE_TYPE, parseFeatureContract } from '@strata/core/feature-contract';
import { catalogAccess, database } from './catalog';
import { assumedBy, fromRoot } from './shared';
import { key, lake } from './storage';

const stage = $app.stage;

/** The features, as models/gold/ml_features.sql declares them: the one place they are written. */
export const featureContract = parseFeatureContract(
  'ml_features',
  readFileSync(fromRoot('packages/core/src/models/gold/ml_features.sql'), 'utf8')
);

/** The prefix of the lake SageMaker writes the offline store under. */
const OFFLINE_PREFIX = 'feature-store';

const groupName = `strata-${stage}-customer-features`.slice(0, 64);

/** The offline store's Glue table: Glue names allow no `-`. */
const offlineTableName = groupName.replace(/-/g, '_');

/** What SageMaker adds to every offline record (feature-store-offline.html). */
const OFFLINE_COLUMNS = [
  { name: 'write_time', type: 'timestamp' },
  { name: 'api_invocation_time', type: 'timestamp' },
  { name: 'is_deleted', type: 'boolean' },
];

/**
 * SageMaker reads and updates the offline store's table (a feature added to the group adds its
 * column), this table only: the managed policy's is every table of sagemaker_featurestore.
 */
const tableAccess = catalogAccess(['glue:GetTable', 'glue:UpdateTable'], offlineTableName);

// What AmazonSageMakerFeatureStoreAccess grants, scoped to this lake's offline-store prefix and
// this group's table instead of every bucket and table named *sagemaker*.
const offlineStoreRole = new aws.iam.Role('FeatureStoreRole', {
  assumeRolePolicy: assumedBy('sagemaker.amazonaws.com'),
  inlinePolicies: [
    {
      name: 'offline-store',
      policy: $jsonStringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:PutObject', 's3:PutObjectAcl'],
            Resource: $interpolate`${lake.arn}/${OFFLINE_PREFIX}/*`,
          },
          // The manifests an Iceberg-format offline store keeps; the Glue format reads none.
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: $interpolate`${lake.arn}/${OFFLINE_PREFIX}/*/metadata/*`,
          },
          { Effect: 'Allow', Action: 's3:GetBucketAcl', Resource: lake.arn },
          // The offline store's objects are encrypted with the lake's key.
          { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: key.arn },
          { Effect: 'Allow', Action: tableAccess.actions, Resource: tableAccess.resources },
        ],
      }),
    },
  ],
});

export const featureGroup = new aws.sagemaker.FeatureGroup('CustomerFeatures', {
  featureGroupName: groupName,
  recordIdentifierFeatureName: featureContract.recordId,
  eventTimeFeatureName: featureContract.eventTime,
  featureDefinitions: featureContract.features.map((feature) => ({
    featureName: feature.name,
    featureType: feature.type,
  })),
  onlineStoreConfig: { enableOnlineStore: true, securityConfig: { kmsKeyId: key.arn } },
  offlineStoreConfig: {
    s3StorageConfig: {
      s3Uri: $interpolate`s3://${lake.bucket}/${OFFLINE_PREFIX}`,
      kmsKeyId: key.arn,
    },
    // The table is declared below, typed from the same contract, with partition projection so
    // Athena sees each new hour without a crawler.
    disableGlueTableCreation: true,
    dataCatalogConfig: {
      catalog: 'AwsDataCatalog',
      database: database.name,
      tableName: offlineTableName,
    },
  },
  roleArn: offlineStoreRole.arn,
});

/** Where SageMaker writes this group's Parquet: known once the group exists (it has its creation time). */
const offlineLocation = featureGroup.offlineStoreConfig.apply(
  (config) => config?.s3StorageConfig?.resolvedOutputS3Uri ?? ''
);

const twoDigits = (name: string, from: number, to: number) => ({
  [`projection.${name}.type`]: 'integer',
  [`projection.${name}.range`]: `${from},${to}`,
  [`projection.${name}.digits`]: '2',
});

/** The offline store as Athena reads it: one column per feature, SageMaker's three, by hour. */
export const offlineStoreTable = new aws.glue.CatalogTable('CustomerFeaturesOfflineTable', {
  name: offlineTableName,
  databaseName: database.name,
  tableType: 'EXTERNAL_TABLE',
  parameters: {
    classification: 'parquet',
    'projection.enabled': 'true',
    'projection.year.type': 'integer',
    'projection.year.range': '2020,2100',
    ...twoDigits('month', 1, 12),
    ...twoDigits('day', 1, 31),
    ...twoDigits('hour', 0, 23),
    'storage.location.template': $interpolate`${offlineLocation}/year=\${year}/month=\${month}/day=\${day}/hour=\${hour}`,
  },
  partitionKeys: ['year', 'month', 'day', 'hour'].map((name) => ({ name, type: 'string' })),
  storageDescriptor: {
    location: offlineLocation,
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serDeInfo: {
      serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    },
    columns: [
      ...featureContract.features.map((feature) => ({
        name: feature.name,
        type: GLUE_TYPE[feature.type],
      })),
      ...OFFLINE_COLUMNS,
    ],
  },
});

/** Records feature-ingest gave up on, each with its error: inspect, fix, and the next run resends them. */
export const featureDeadLetterQueue = new aws.sqs.Queue('FeatureDeadLetterQueue', {
  messageRetentionSeconds: 14 * 24 * 3600,
  kmsMasterKeyId: key.arn,
});

/** What feature-ingest sees as `Resource.FeatureGroup`: the group and where its failed records go. */
export const featureGroupLink = new sst.Linkable('FeatureGroup', {
  properties: {
    name: featureGroup.featureGroupName,
    arn: featureGroup.arn,
    deadLetterQueueUrl: featureDeadLetterQueue.url,
  },
});
