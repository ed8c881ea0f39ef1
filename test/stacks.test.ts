import { FLATTEN_BATCH_MEMORY_MB } from '@strata/core/cost';
import { GLUE_TYPE } from '@strata/core/feature-contract';
import { loadFeatureContract } from '@strata/core/feature-ingest';
import { lambdaContext } from '@strata/local/runtime';
import { describe, expect, it } from 'vitest';
import { linkFindings } from '../scripts/check-aws/links.js';
import {
  leastPrivilegeFindings,
  lifecycleFindings,
  observabilityFindings,
  TRACING_ACTIONS,
} from '../scripts/check-aws/policies.js';
import {
  ACCOUNT,
  functionName,
  REGION,
  type RenderedPolicy,
  type RenderedStacks,
  renderStacks,
} from '../scripts/check-aws/render.js';
import { LAMBDAS } from '../stacks/lambdas.js';

const root = new URL('../', import.meta.url).pathname;
const stage = 'dev';
const target = { account: ACCOUNT, region: REGION, stage };
// One render per process: the stacks are modules, evaluated once.
const stacks: RenderedStacks = await renderStacks(root, stage);

const policyOf = (owner: string): RenderedPolicy => {
  const policy = stacks.policies.find((p) => p.owner === owner);
  if (!policy) throw new Error(`no policy for ${owner}`);
  return policy;
};

describe('stacks/ rendered under Pulumi mocks (stage dev)', () => {
  it('grants no wildcard data action, no unscoped or foreign resource, no whole-lake listing', () => {
    // Act
    const findings = leastPrivilegeFindings(stacks.policies, target);

    // Assess
    expect(findings).toEqual([]);
    expect(stacks.policies.map((p) => p.owner)).toEqual(
      expect.arrayContaining([
        ...Object.keys(LAMBDAS).map((name) => `function:${name}`),
        'role:PipelineRole',
        'role:BackfillRole',
        'role:WeeklySyncRole',
      ])
    );
  });

  it("lets each function list only the prefixes it reads or writes, and the warehouse's users read only their stage's secret", () => {
    // Assess
    const listing = (name: string) =>
      policyOf(`function:${name}`).statements.find((s) => s.Action.includes('s3:ListBucket'))
        ?.Condition;
    expect(listing('PlanRun')).toEqual({ StringLike: { 's3:prefix': ['_config/*'] } });
    expect(listing('FeatureIngest')).toEqual({
      StringLike: { 's3:prefix': ['_config/*', 'gold/*', '_features/*'] },
    });
    const readers = ['function:Extract', 'function:HealthCheck'];
    for (const reader of readers) {
      const secrets = policyOf(reader).statements.filter((s) =>
        s.Action.includes('secretsmanager:GetSecretValue')
      );
      expect(secrets.flatMap((s) => s.Resource)).toEqual([
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:strata/dev/snowflake/*`,
      ]);
    }
    const others = stacks.policies.filter((p) => !readers.includes(p.owner));
    expect(JSON.stringify(others)).not.toContain('secretsmanager');
  });

  it('lets only the functions behind a circuit breaker read and update the breakers, nothing else', () => {
    // Prepare
    const table = stacks.resources.find((r) => r.name === 'Breakers');

    // Act
    const grants = stacks.policies
      .flatMap((p) =>
        p.statements
          .filter((s) => [s.Resource].flat().includes(table?.arn ?? ''))
          .map((s) => [p.owner, s.Action])
      )
      .sort();

    // Assess
    expect(table?.inputs).toMatchObject({ hashKey: 'circuit', billingMode: 'PAY_PER_REQUEST' });
    expect(grants).toEqual(
      ['Extract', 'FeatureIngest', 'HealthCheck'].map((name) => [
        `function:${name}`,
        ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      ])
    );
  });

  it('logs, traces and alarms on every state machine, and alarms on every function', () => {
    // Act
    const findings = observabilityFindings(stacks, (name) => functionName(stage, name));

    // Assess
    expect(findings).toEqual([]);
    const machines = stacks.resources.filter((r) => r.type === 'aws:sfn/stateMachine:StateMachine');
    expect(machines.map((m) => m.name).sort()).toEqual(['Backfill', 'Pipeline', 'WeeklySync']);
    const alarms = stacks.resources
      .filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm')
      .map((r) => r.name);
    expect(alarms).toEqual(
      expect.arrayContaining([
        'WeeklySyncExecutionsFailed',
        'BackfillExecutionsTimedOut',
        'FlattenBatchThrottles',
        'FlattenBatchNearTimeout',
        'BronzeToSilverQualityFailures',
        'SilverToGoldSlowerThanBaseline',
        'DeadLetterQueueNotEmpty',
      ])
    );
  });

  it('shows every state machine and function on the dashboard, and budgets the stage', () => {
    // Prepare
    const byType = (type: string) => stacks.resources.filter((r) => r.type === type);

    // Assess
    const [dashboard] = byType('aws:cloudwatch/dashboard:Dashboard');
    const body = String(dashboard?.inputs.dashboardBody);
    for (const machine of ['pipeline', 'backfill', 'weekly-sync']) {
      expect(body).toContain(`stateMachine:strata-dev-${machine}`);
    }
    for (const name of Object.keys(LAMBDAS)) expect(body).toContain(functionName(stage, name));
    const [budget] = byType('aws:budgets/budget:Budget');
    expect(budget?.inputs).toMatchObject({
      limitAmount: '25',
      costFilters: [{ name: 'TagKeyValue', values: ['user:sst:stage$dev'] }],
    });
    // config/operations.json names no e-mail for dev.
    expect(byType('aws:sns/topicSubscription:TopicSubscription')).toEqual([]);
  });

  it("builds the feature group, its offline store's table and its role from ml_features' contract", async () => {
    // Prepare: the contract the model's header declares
    const contract = await loadFeatureContract();
    const resource = (type: string) => stacks.resources.find((r) => r.type === type);

    // Act
    const group = resource('aws:sagemaker/featureGroup:FeatureGroup')?.inputs as Record<
      string,
      unknown
    >;
    const table = resource('aws:glue/catalogTable:CatalogTable')?.inputs as {
      storageDescriptor: { columns: { name: string; type: string }[] };
      partitionKeys: { name: string }[];
    };

    // Assess
    expect(group).toMatchObject({
      recordIdentifierFeatureName: contract.recordId,
      eventTimeFeatureName: contract.eventTime,
      featureDefinitions: contract.features.map((f) => ({
        featureName: f.name,
        featureType: f.type,
      })),
      offlineStoreConfig: { disableGlueTableCreation: true },
    });
    expect(table.storageDescriptor.columns).toEqual([
      ...contract.features.map((f) => ({ name: f.name, type: GLUE_TYPE[f.type] })),
      { name: 'write_time', type: 'timestamp' },
      { name: 'api_invocation_time', type: 'timestamp' },
      { name: 'is_deleted', type: 'boolean' },
    ]);
    expect(table.partitionKeys.map((k) => k.name)).toEqual(['year', 'month', 'day', 'hour']);
    const role = policyOf('role:FeatureStoreRole').statements;
    const actions = role.flatMap((s) => s.Action);
    expect(actions).toEqual(
      expect.arrayContaining([
        's3:PutObject',
        's3:PutObjectAcl',
        's3:GetBucketAcl',
        'glue:GetTable',
        'glue:UpdateTable',
        'kms:GenerateDataKey',
      ])
    );
    const put = role.find((s) => s.Action.includes('s3:PutObjectAcl'));
    // Scoped to the lake's offline-store prefix, not every *sagemaker* bucket as the managed policy
    expect(put?.Resource).toMatch(/^arn:aws:s3:::[^/*]+\/feature-store\/\*$/);
    // and to the offline store's own table, not every table of a database
    const glue = role.find((s) => s.Action.includes('glue:UpdateTable'));
    const tables = [glue?.Resource].flat().filter((arn) => String(arn).includes(':table/'));
    expect(tables).toEqual([
      expect.stringMatching(/:table\/strata_dev\/strata_dev_customer_features$/),
    ]);
    // The lake's key encrypts both stores: SageMaker writes the offline store with it, and
    // PutRecord needs kms:Decrypt on the online store's key.
    const keyArn = String(role.find((s) => s.Action.includes('kms:GenerateDataKey'))?.Resource);
    expect(group).toMatchObject({
      onlineStoreConfig: { securityConfig: { kmsKeyId: keyArn } },
      offlineStoreConfig: { s3StorageConfig: { kmsKeyId: keyArn } },
    });
    const ingest = policyOf('function:FeatureIngest').statements;
    expect(
      ingest.some((s) => s.Action.includes('kms:Decrypt') && [s.Resource].flat().includes(keyArn))
    ).toBe(true);
  });

  it('expires the versions raw/ moves leave behind within a week', () => {
    // Assess
    expect(lifecycleFindings(stacks)).toEqual([]);
  });

  it('declares in sst-env.d.ts exactly the links the stacks create, for the handlers', () => {
    // Act
    const findings = linkFindings(root, stacks.links);

    // Assess
    expect(findings).toEqual([]);
    expect([...stacks.links.keys()].sort()).toEqual([
      'Alerts',
      'Breakers',
      'Catalog',
      'FeatureGroup',
      'Lake',
      'Ledger',
      'Watermarks',
    ]);
  });

  it('finds a link sst-env.d.ts lacks or declares otherwise', () => {
    // Prepare
    const links = new Map([
      ['Lake', ['name', 'region']],
      ['Queue', ['url']],
    ]);

    // Act
    const findings = linkFindings(root, links);

    // Assess
    expect(findings).toEqual(
      expect.arrayContaining([
        'sst-env.d.ts: Resource.Lake declares name; stacks/ links name, region',
        'sst-env.d.ts: no Resource.Queue, which stacks/ links',
        'sst-env.d.ts: Resource.Ledger is linked by no stack',
      ])
    );
  });

  it('installs the native packages each function is built with', () => {
    // Assess
    for (const [name, spec] of Object.entries(LAMBDAS)) {
      const args = stacks.functions.get(name) as { nodejs: { install: string[] } };
      expect(args.nodejs.install, name).toEqual([...spec.install]);
    }
  });

  it("deploys each function with the memory the local runtime gives it, FlattenBatch with the cost model's", () => {
    // Assess
    for (const [name, spec] of Object.entries(LAMBDAS)) {
      const args = stacks.functions.get(name) as { memory: string };
      expect(args.memory, name).toBe(`${spec.memoryMb} MB`);
      expect(lambdaContext(name).memoryLimitInMB, name).toBe(String(spec.memoryMb));
    }
    expect(LAMBDAS.FlattenBatch.memoryMb).toBe(FLATTEN_BATCH_MEMORY_MB);
  });
});

describe('Function: leastPrivilegeFindings', () => {
  it("finds today's defects in a policy that has them", () => {
    // Prepare
    const policies: RenderedPolicy[] = [
      {
        owner: 'function:Old',
        arn: 'arn:aws:lambda:eu-west-1:123456789012:function:old',
        statements: [
          { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::lake'] },
          {
            Effect: 'Allow',
            Action: ['secretsmanager:GetSecretValue'],
            Resource: ['arn:aws:secretsmanager:*:*:secret:strata/snowflake/*'],
          },
          { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::lake/*'] },
          { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: ['*'] },
        ],
      },
    ];

    // Act
    const findings = leastPrivilegeFindings(policies, target);

    // Assess
    expect(findings).toEqual([
      'function:Old: s3:ListBucket on the whole bucket (no s3:prefix condition)',
      'function:Old: arn:aws:secretsmanager:*:*:secret:strata/snowflake/*: region "*", not eu-west-1',
      'function:Old: arn:aws:secretsmanager:*:*:secret:strata/snowflake/*: account "*", not 123456789012',
      'function:Old: arn:aws:secretsmanager:*:*:secret:strata/snowflake/*: not under arn:aws:secretsmanager:eu-west-1:123456789012:secret:strata/dev/',
      'function:Old: wildcard action s3:*',
      'function:Old: dynamodb:GetItem on every resource (*)',
    ]);
  });

  it('accepts X-Ray and log delivery on * (they take no resource-level permissions)', () => {
    // Prepare
    const policies: RenderedPolicy[] = [
      {
        owner: 'role:Traced',
        arn: 'arn:aws:iam::123456789012:role/traced',
        statements: [
          { Effect: 'Allow', Action: TRACING_ACTIONS, Resource: '*' },
          { Effect: 'Allow', Action: ['logs:CreateLogDelivery'], Resource: '*' },
        ],
      },
    ];

    // Act
    const findings = leastPrivilegeFindings(policies, target);

    // Assess
    expect(findings).toEqual([]);
  });
});
