import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeFeatureGroupCommand,
  type FeatureGroupStatus,
  type OfflineStoreStatusValue,
  ResourceNotFound,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DuckDBInstance } from '@duckdb/node-api';
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '@strata/local/s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../adapters/DuckDbWarehouse.js';
import { S3ObjectStore } from '../adapters/S3ObjectStore.js';
import { SageMakerFeatureGroups } from '../adapters/SageMakerFeatureGroups.js';
import { SnsNotifier } from '../adapters/SnsNotifier.js';
import { CONFIG_KEY } from '../config/index.js';
import { ErrorName } from '../errors/index.js';
import { type HealthCheckDeps, runHealthCheck } from './runHealthCheck.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:strata-dev-alerts';
const GROUP = 'strata-dev-customer-features';

let dir: string;
let s3: LocalS3 | undefined;
let store: S3ObjectStore;
let warehousePath: string;
const sns = new SNSClient({ region: 'eu-west-1' });
const sagemaker = new SageMakerClient({ region: 'eu-west-1' });
const snsMock = mockClient(sns);
const sagemakerMock = mockClient(sagemaker);

/** The config in the lake, its warehouse the DuckDB file at `path`. */
const putConfig = (path: string) =>
  store.put(
    CONFIG_KEY,
    JSON.stringify({
      warehouse: { type: 'duckdb', path, database: 'snowflake_sample_data' },
      queries: [{ name: 'region', sql: 'select 1', primary_key: ['a'] }],
    })
  );

const deps = (): HealthCheckDeps => ({
  store,
  warehouse: async (config) => {
    if (config.warehouse.type !== 'duckdb') throw new Error('duckdb only here');
    return new DuckDbWarehouse({ path: config.warehouse.path, database: 'snowflake_sample_data' });
  },
  featureGroups: new SageMakerFeatureGroups(sagemaker),
  featureGroup: () => GROUP,
  notifier: new SnsNotifier({ topicArn: TOPIC, client: sns }),
});

const groupIs = (
  FeatureGroupStatus: FeatureGroupStatus,
  offline: OfflineStoreStatusValue = 'Active'
) =>
  sagemakerMock
    .on(DescribeFeatureGroupCommand, { FeatureGroupName: GROUP })
    .resolves({ FeatureGroupStatus, OfflineStoreStatus: { Status: offline } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-health-'));
  s3 = await LocalS3.start({ directory: join(dir, 's3'), buckets: ['health-lake'] });
  store = new S3ObjectStore({
    bucket: 'health-lake',
    client: new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
    }),
  });
  warehousePath = join(dir, 'warehouse.duckdb');
  (await DuckDBInstance.create(warehousePath)).closeSync();
});

beforeEach(async () => {
  snsMock.reset();
  sagemakerMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: '1' });
  await putConfig(warehousePath);
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('runHealthCheck', () => {
  it('passes when the lake, the warehouse and the feature group all answer, and alerts nobody', async () => {
    // Prepare
    groupIs('Created');

    // Act
    const result = await runHealthCheck({ executionName: 'run-1' }, deps());

    // Assess
    expect(result.checks.map((c) => [c.check, c.healthy])).toEqual([
      ['lake', true],
      ['warehouse', true],
      ['feature group', true],
    ]);
    expect(await store.get('_health/run-1')).toBeUndefined();
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('alerts once, naming every failed dependency, and fails as Strata.Terminal', async () => {
    // Prepare
    groupIs('Creating');
    await putConfig(join(dir, 'no-such-dir', 'warehouse.duckdb'));

    // Act
    const error = await runHealthCheck({ executionName: 'run-2' }, deps()).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: ErrorName.Terminal });
    expect((error as Error).message).toMatch(
      /^health check failed: warehouse: .*no-such-dir.*; feature group: strata-dev-customer-features is Creating, its offline store Active$/
    );
    const published = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      TopicArn: TOPIC,
      Subject: 'Strata health check failed: pipeline not started',
    });
    const lines = published[0]?.Message?.split('\n') ?? [];
    expect(lines).toContain('ok     lake: config read, probe object written and deleted');
    expect(lines.some((line) => line.startsWith('FAILED warehouse: '))).toBe(true);
    expect(lines).toContain(
      'FAILED feature group: strata-dev-customer-features is Creating, its offline store Active'
    );
  });

  it('reports a feature group that does not exist and one whose offline store is blocked', async () => {
    // Prepare
    sagemakerMock
      .on(DescribeFeatureGroupCommand)
      .rejectsOnce(new ResourceNotFound({ message: 'not found', $metadata: {} }))
      .resolvesOnce({
        FeatureGroupStatus: 'Created',
        OfflineStoreStatus: { Status: 'Blocked', BlockedReason: 'bucket policy' },
      });

    // Act
    const missing = await runHealthCheck({ executionName: 'run-3' }, deps()).catch((e: Error) => e);
    const blocked = await runHealthCheck({ executionName: 'run-4' }, deps()).catch((e: Error) => e);

    // Assess
    expect((missing as Error).message).toBe(
      `health check failed: feature group: ${GROUP} does not exist`
    );
    expect((blocked as Error).message).toBe(
      `health check failed: feature group: ${GROUP} is Created, its offline store Blocked (bucket policy)`
    );
  });

  it('fails as Strata.BadInput when the config is missing, without asking the others or alerting', async () => {
    // Prepare
    await store.delete([CONFIG_KEY]);

    // Act
    const error = await runHealthCheck({ executionName: 'run-5' }, deps()).catch((e: Error) => e);

    // Assess: the user's config to fix, which the pipeline's failure branch reports, not an outage
    expect(error).toMatchObject({ name: ErrorName.BadInput });
    expect((error as Error).message).toMatch(/^config: no configuration/);
    expect(sagemakerMock.commandCalls(DescribeFeatureGroupCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
