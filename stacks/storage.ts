// The lake: one KMS-encrypted, versioned, TLS-only bucket holding the medallion prefixes, and a
// bucket for its server access logs. Raw Pulumi resources rather than sst.aws.Bucket, so every
// security setting is spelled out here instead of inherited from component defaults.

const stage = $app.stage;

/** Customer-managed key for the lake, the dead-letter queue, the alert topic and the tables. */
export const key = new aws.kms.Key('LakeKey', {
  description: `strata ${stage}: lake, queue, topic and tables`,
  enableKeyRotation: true,
  deletionWindowInDays: 30,
  policy: aws.getCallerIdentityOutput().accountId.apply((account) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AccountAdministers',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${account}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          // SNS, SQS, CloudWatch alarms and AWS Budgets encrypt with the key on the
          // pipeline's behalf (the alert topic is encrypted with it).
          Sid: 'ServicesUseKey',
          Effect: 'Allow',
          Principal: {
            Service: [
              'sns.amazonaws.com',
              'sqs.amazonaws.com',
              'cloudwatch.amazonaws.com',
              'budgets.amazonaws.com',
            ],
          },
          Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceAccount': account } },
        },
      ],
    })
  ),
});
new aws.kms.Alias('LakeKeyAlias', { name: `alias/strata-${stage}-lake`, targetKeyId: key.keyId });

/** A bucket nobody can make public or reach without TLS; `extra` adds policy statements. */
const privateBucket = (name: string, extra: (arn: string) => object[] = () => []) => {
  const bucket = new aws.s3.Bucket(name, {
    forceDestroy: stage !== 'prod',
  });
  new aws.s3.BucketOwnershipControls(`${name}Ownership`, {
    bucket: bucket.id,
    rule: { objectOwnership: 'BucketOwnerEnforced' },
  });
  const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}PublicAccess`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new aws.s3.BucketPolicy(
    `${name}Policy`,
    {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [arn, `${arn}/*`],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            ...extra(arn),
          ],
        })
      ),
    },
    { dependsOn: [publicAccess] }
  );
  return bucket;
};

/**
 * Server access logs. S3 delivers them with SSE-S3 only (a log target cannot use a KMS key), and
 * the logging service writes through this policy rather than ACLs.
 */
export const logBucket = privateBucket('LakeAccessLogs', (arn) => [
  {
    Sid: 'S3ServerAccessLogsDelivery',
    Effect: 'Allow',
    Principal: { Service: 'logging.s3.amazonaws.com' },
    Action: 's3:PutObject',
    Resource: `${arn}/lake/*`,
  },
]);
new aws.s3.BucketServerSideEncryptionConfiguration('LakeAccessLogsEncryption', {
  bucket: logBucket.id,
  rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
});
new aws.s3.BucketLifecycleConfiguration('LakeAccessLogsLifecycle', {
  bucket: logBucket.id,
  rules: [{ id: 'expire-logs', status: 'Enabled', filter: {}, expiration: { days: 365 } }],
});

/** The lake: raw/, raw-processed/, bronze/, silver/, gold/, quarantine/, feature-store/. */
export const lake = privateBucket('Lake');
new aws.s3.BucketVersioning('LakeVersioning', {
  bucket: lake.id,
  versioningConfiguration: { status: 'Enabled' },
});
new aws.s3.BucketServerSideEncryptionConfiguration('LakeEncryption', {
  bucket: lake.id,
  rules: [
    {
      applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn },
      // One data key per bucket instead of per object: far fewer KMS calls at backfill scale.
      bucketKeyEnabled: true,
    },
  ],
});
new aws.s3.BucketLogging('LakeLogging', {
  bucket: lake.id,
  targetBucket: logBucket.id,
  targetPrefix: 'lake/',
});
new aws.s3.BucketLifecycleConfiguration('LakeLifecycle', {
  bucket: lake.id,
  rules: [
    {
      // Raw drops and bronze are read by unpredictable reprocessing: let S3 tier them.
      id: 'raw-intelligent-tiering',
      status: 'Enabled',
      filter: { prefix: 'raw/' },
      transitions: [{ days: 0, storageClass: 'INTELLIGENT_TIERING' }],
    },
    {
      id: 'bronze-intelligent-tiering',
      status: 'Enabled',
      filter: { prefix: 'bronze/' },
      transitions: [{ days: 0, storageClass: 'INTELLIGENT_TIERING' }],
    },
    {
      // FlattenBatch moves each raw object to raw-processed/ (a copy, then a delete): on a
      // versioned lake the delete leaves the old version behind, a second copy of the whole
      // backlog for as long as noncurrent versions live. Keep it a day, long enough to undo a
      // mistaken delete, then drop it and the delete marker left on its own.
      id: 'raw-moved-versions',
      status: 'Enabled',
      filter: { prefix: 'raw/' },
      noncurrentVersionExpiration: { noncurrentDays: 1 },
      expiration: { expiredObjectDeleteMarker: true },
    },
    {
      // Processed raw files are kept for audit and replay only.
      id: 'raw-processed-archive',
      status: 'Enabled',
      filter: { prefix: 'raw-processed/' },
      transitions: [
        { days: 30, storageClass: 'STANDARD_IA' },
        { days: 90, storageClass: 'GLACIER' },
      ],
    },
    {
      id: 'quarantine-infrequent-access',
      status: 'Enabled',
      filter: { prefix: 'quarantine/' },
      transitions: [{ days: 30, storageClass: 'STANDARD_IA' }],
    },
    {
      id: 'expire-noncurrent-versions',
      status: 'Enabled',
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: 90 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
    },
  ],
});

/** The deployed pipeline configuration, read by every stage at `_config/strata.json`. */
export const config = new aws.s3.BucketObjectv2('PipelineConfig', {
  bucket: lake.id,
  key: '_config/strata.json',
  // $asset joins the project root: Pulumi would resolve a bare relative path under .sst/.
  source: $asset('config/strata.json'),
  contentType: 'application/json',
  serverSideEncryption: 'aws:kms',
  kmsKeyId: key.arn,
});

/**
 * What handlers see as `Resource.Lake`: the bucket's name only. Linking it grants nothing, so
 * each function gets exactly the prefixes it needs in stacks/pipeline.ts.
 */
export const lakeLink = new sst.Linkable('Lake', { properties: { name: lake.bucket } });
