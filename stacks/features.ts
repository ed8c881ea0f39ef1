// The SageMaker feature group feature-ingest writes to: an online store for serving and an
// offline store on the lake under feature-store/, encrypted with the lake's key.
import { assumedBy } from './shared';
import { key, lake } from './storage';

const stage = $app.stage;

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
            Action: ['s3:PutObject', 's3:GetObject'],
            Resource: $interpolate`${lake.arn}/feature-store/*`,
          },
          { Effect: 'Allow', Action: 's3:GetBucketAcl', Resource: lake.arn },
          { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: key.arn },
        ],
      }),
    },
  ],
});

const feature = (name: string, type: 'String' | 'Integral' | 'Fractional') => ({
  featureName: name,
  featureType: type,
});

export const featureGroup = new aws.sagemaker.FeatureGroup('CustomerFeatures', {
  featureGroupName: `strata-${stage}-customer-features`.slice(0, 64),
  recordIdentifierFeatureName: 'customer_id',
  eventTimeFeatureName: 'event_time',
  featureDefinitions: [
    feature('customer_id', 'String'),
    feature('order_count', 'Integral'),
    feature('total_spent', 'Fractional'),
    feature('avg_order_value', 'Fractional'),
    feature('days_since_last_order', 'Integral'),
    feature('nation', 'String'),
    feature('region', 'String'),
    feature('market_segment', 'String'),
    feature('event_time', 'String'),
  ],
  onlineStoreConfig: { enableOnlineStore: true, securityConfig: { kmsKeyId: key.arn } },
  offlineStoreConfig: {
    s3StorageConfig: { s3Uri: $interpolate`s3://${lake.bucket}/feature-store`, kmsKeyId: key.arn },
  },
  roleArn: offlineStoreRole.arn,
});

/** What feature-ingest sees as `Resource.FeatureGroup`. */
export const featureGroupLink = new sst.Linkable('FeatureGroup', {
  properties: { name: featureGroup.featureGroupName, arn: featureGroup.arn },
});
