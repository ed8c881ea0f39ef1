// feature-ingest end to end against the real AWS SDK clients: SageMaker Feature Store's runtime
// client (PutRecord) and SQS (the dead-letter queue), answered by aws-sdk-client-mock, with the
// real lake (s3rver), DuckDB and the feature contract gold ml_features declares.
import { join } from 'node:path';
import {
  DeleteRecordCommand,
  PutRecordCommand,
  type PutRecordCommandInput,
  SageMakerFeatureStoreRuntimeClient,
  SageMakerFeatureStoreRuntimeServiceException,
  ServiceUnavailable,
  ValidationError,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SageMakerFeatureSink, SqsDeadLetterQueue } from '@strata/core/adapters';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { ErrorName } from '@strata/core/errors';
import { loadFeatureContract, runFeatureIngest } from '@strata/core/feature-ingest';
import { Lake } from '@strata/core/lake';
import type { DeadLetter } from '@strata/core/ports';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from './support/localLake.js';

const featureStore = mockClient(SageMakerFeatureStoreRuntimeClient);
const sqs = mockClient(SQSClient);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/111122223333/strata-dev-features-dlq';
const GROUP = 'strata-dev-customer-features';
const contract = await loadFeatureContract();
const clientOptions = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
};

let lake: LocalLake;

/** The customers' gold ml_features, of the model's column types: `k` orders for customer k. */
const givenGold = async (customers: number, orderCount = 'k::bigint') => {
  const local = join(lake.dir, `ml_features-${customers}-${Date.now()}.parquet`);
  await DuckDbEngine.use({}, (engine) =>
    engine.run(`copy (
      select k::bigint as customer_id, ${orderCount} as order_count, k * 10.0 as total_spent,
             10.0 as avg_order_value, '2026-03-01' as last_order_date, 'FRANCE' as nation,
             'EUROPE' as region, 'BUILDING' as market_segment
      from range(1, ${customers + 1}) as t(k)) to ${quoteLiteral(local)} (format parquet)`)
  );
  await lake.store.upload(Lake.goldModel('ml_features'), local);
};

/** A PutRecord's record id. */
const idOf = (input: PutRecordCommandInput) =>
  input.Record?.find((value) => value.FeatureName === contract.recordId)?.ValueAsString;

/** The dead letters SQS received, as their message bodies. */
const deadLetters = (): DeadLetter[] =>
  sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => JSON.parse(entry.MessageBody ?? '') as DeadLetter);

const throttled = () =>
  new SageMakerFeatureStoreRuntimeServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });

/** One run of the stage on the real clients: at most `max` PutRecord calls in flight. */
const ingest = (runId: string, options: { max?: number; maxFailedShare?: number } = {}) => {
  const sink = new SageMakerFeatureSink({
    client: new SageMakerFeatureStoreRuntimeClient(clientOptions),
    limits: { initial: 4, max: options.max ?? 8, sleep: async () => undefined },
  });
  const result = DuckDbEngine.use({}, (engine) =>
    runFeatureIngest(
      { runId, runStartedAt: '2026-03-02T06:00:00Z' },
      {
        store: lake.store,
        engine,
        sink,
        deadLetters: new SqsDeadLetterQueue({
          queueUrl: QUEUE,
          client: new SQSClient(clientOptions),
        }),
        featureGroup: GROUP,
        contract,
        settings: {
          recordsPerBatch: 25,
          recordsPerRange: 50,
          maxFailedShare: options.maxFailedShare ?? 0.1,
          maxDeletedShare: 0.5,
        },
      }
    )
  );
  return { sink, result };
};

/** Counts PutRecord calls in flight; each call takes a few milliseconds. */
const inFlightGauge = (answer: (input: PutRecordCommandInput) => void) => {
  const gauge = { now: 0, peak: 0, accepted: [] as string[] };
  featureStore.on(PutRecordCommand).callsFake(async (input: PutRecordCommandInput) => {
    gauge.now++;
    gauge.peak = Math.max(gauge.peak, gauge.now);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2));
      answer(input);
      gauge.accepted.push(idOf(input) ?? '');
      return {};
    } finally {
      gauge.now--;
    }
  });
  return gauge;
};

beforeAll(async () => {
  lake = await startLocalLake();
});

beforeEach(async () => {
  featureStore.reset();
  sqs.reset();
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  // Each test is a feature group's first run.
  await lake.store.delete([`_features/${GROUP}/sent.parquet`]);
});

afterAll(async () => {
  featureStore.restore();
  sqs.restore();
  await lake?.stop();
});

describe('feature-ingest on the SageMaker Feature Store and SQS clients', () => {
  it('rides out a throttling storm within its concurrency bound, sending every record once', async () => {
    // Prepare: the first 60 calls are pushed back (throttled, every seventh a 503)
    await givenGold(200);
    let calls = 0;
    const gauge = inFlightGauge(() => {
      calls++;
      if (calls > 60) return;
      if (calls % 7 === 0) {
        throw new ServiceUnavailable({ $metadata: { httpStatusCode: 503 }, message: 'busy' });
      }
      throw throttled();
    });

    // Act
    const { sink, result } = ingest('storm', { max: 6 });

    // Assess
    expect(await result).toEqual({
      featureGroup: GROUP,
      records: 200,
      unchanged: 0,
      deleted: 0,
      deletionsHeld: 0,
      retried: 60,
      failed: 0,
    });
    expect(gauge.accepted.toSorted((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 200 }, (_, i) => String(i + 1))
    );
    expect(gauge.peak).toBeLessThanOrEqual(6);
    expect(sink.peakConcurrency).toBeLessThanOrEqual(6);
    expect(deadLetters()).toEqual([]);
  });

  it('fails as Strata.Transient while a storm outlasts every attempt, and its retry sends each record once', async () => {
    // Prepare: nothing gets through until the storm ends
    await givenGold(60);
    let storm = true;
    const gauge = inFlightGauge(() => {
      if (storm) throw throttled();
    });

    // Act
    const during = ingest('long-storm').result;
    await expect(during).rejects.toMatchObject({
      name: ErrorName.Transient,
      message: expect.stringContaining('ThrottlingException'),
    });
    storm = false;
    const after = await ingest('long-storm').result;

    // Assess: nothing dead-lettered for push-back; the retry (same run) sends everything once
    expect(deadLetters()).toEqual([]);
    expect(after).toMatchObject({ records: 60, failed: 0 });
    expect(new Set(gauge.accepted).size).toBe(60);
    expect(gauge.accepted).toHaveLength(60);
  });

  it('dead-letters the records the service refuses, with its error and the record as sent, and resends only them', async () => {
    // Prepare: the deployed group lacks a feature the contract declares, for two customers
    await givenGold(60);
    const refused = ['7', '42'];
    inFlightGauge((input) => {
      if (refused.includes(idOf(input) ?? '')) {
        throw new ValidationError({
          $metadata: { httpStatusCode: 400 },
          message: `Feature [last_order_date] is not defined in FeatureGroup [${GROUP}]`,
        });
      }
    });

    // Act
    const first = await ingest('partial').result;
    featureStore.reset();
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({});
    const again = inFlightGauge(() => undefined);
    const second = await ingest('partial-next').result;

    // Assess: sent / retried / failed; the next run sends the two again and nothing else
    expect(first).toEqual({
      featureGroup: GROUP,
      records: 58,
      unchanged: 0,
      deleted: 0,
      deletionsHeld: 0,
      retried: 0,
      failed: 2,
    });
    expect(second).toMatchObject({ records: 2, unchanged: 58, failed: 0 });
    expect(again.accepted.toSorted()).toEqual(['42', '7']);
    expect(deadLetters()).toEqual([]);
  });

  it('puts each refused record in the queue with the error that refused it', async () => {
    // Prepare
    await givenGold(30);
    inFlightGauge((input) => {
      if (idOf(input) === '12') {
        throw new ValidationError({
          $metadata: { httpStatusCode: 400 },
          message: 'Feature [last_order_date] is not defined in FeatureGroup',
        });
      }
    });

    // Act
    await ingest('letters').result;

    // Assess
    expect(deadLetters()).toEqual([
      {
        stage: 'feature-ingest',
        target: GROUP,
        runId: 'letters',
        key: '12',
        error: {
          name: ErrorName.Terminal,
          message: expect.stringContaining('Feature [last_order_date] is not defined'),
        },
        payload: {
          customer_id: 12,
          order_count: 12,
          total_spent: 120,
          avg_order_value: 10,
          last_order_date: '2026-03-01',
          nation: 'FRANCE',
          region: 'EUROPE',
          market_segment: 'BUILDING',
          event_time: '2026-03-02T06:00:00.000Z',
        },
      },
    ]);
  });

  it("deletes a customer gone from gold with DeleteRecord at the run's event time, and sends nothing else", async () => {
    // Prepare: ten customers sent, then customer 10 leaves the model
    await givenGold(10);
    inFlightGauge(() => undefined);
    await ingest('before-delete').result;
    await givenGold(9);
    featureStore.reset();
    featureStore.on(DeleteRecordCommand).resolves({});

    // Act
    const result = await ingest('delete').result;

    // Assess
    expect(result).toMatchObject({ records: 0, deleted: 1, unchanged: 9, failed: 0 });
    expect(featureStore.commandCalls(PutRecordCommand)).toHaveLength(0);
    expect(featureStore.commandCalls(DeleteRecordCommand).map((c) => c.args[0].input)).toEqual([
      {
        FeatureGroupName: GROUP,
        RecordIdentifierValueAsString: '10',
        EventTime: '2026-03-02T06:00:00.000Z',
        DeletionMode: 'SoftDelete',
      },
    ]);
  });

  it('fails the stage when more records fail than the allowed share, after dead-lettering them all', async () => {
    // Prepare: a fifth of the records are refused, one tenth are allowed to fail
    await givenGold(50);
    inFlightGauge((input) => {
      if (Number(idOf(input)) % 5 === 0) {
        throw new ValidationError({ $metadata: { httpStatusCode: 400 }, message: 'bad value' });
      }
    });

    // Act
    const attempt = ingest('too-many').result;

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.Terminal,
      message: expect.stringContaining('10 of 50 changed record(s)'),
    });
    expect(deadLetters().map((letter) => letter.key)).toEqual([
      '5',
      '10',
      '15',
      '20',
      '25',
      '30',
      '35',
      '40',
      '45',
      '50',
    ]);
  });

  it('sends nothing when a column of gold ml_features breaks the contract, naming the feature', async () => {
    // Prepare: order_count arrives as text
    await givenGold(10, 'k::varchar');
    inFlightGauge(() => undefined);

    // Act
    const attempt = ingest('mismatch').result;

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.BadInput,
      message: expect.stringContaining(
        'feature order_count is declared Integral but ml_features gives VARCHAR'
      ),
    });
    expect(featureStore.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it('dead-letters a record that breaks the contract, naming the feature, without calling PutRecord for it', async () => {
    // Prepare: customer 3 has lost its id, which no column type says
    await givenGold(5);
    const local = join(lake.dir, 'null-id.parquet');
    await DuckDbEngine.use({}, async (engine) => {
      await lake.store.download(Lake.goldModel('ml_features'), join(lake.dir, 'gold.parquet'));
      await engine.run(
        `copy (select * replace (case when customer_id = 3 then null else customer_id end as customer_id) from read_parquet(${quoteLiteral(join(lake.dir, 'gold.parquet'))})) to ${quoteLiteral(local)} (format parquet)`
      );
    });
    await lake.store.upload(Lake.goldModel('ml_features'), local);
    const gauge = inFlightGauge(() => undefined);

    // Act
    const result = await ingest('record-check', { maxFailedShare: 0.5 }).result;

    // Assess
    expect(result).toMatchObject({ records: 4, failed: 1 });
    expect(gauge.accepted.toSorted()).toEqual(['1', '2', '4', '5']);
    expect(deadLetters()).toEqual([
      expect.objectContaining({
        error: {
          name: ErrorName.BadInput,
          message: expect.stringMatching(/^record breaks the feature contract: customer_id: /),
        },
        payload: expect.objectContaining({ customer_id: null, order_count: 3 }),
      }),
    ]);
  });
});
