import {
  DeleteRecordCommand,
  InternalFailure,
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
  SageMakerFeatureStoreRuntimeServiceException,
  ValidationError,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import type { AdaptiveConcurrencyOptions } from './AdaptiveConcurrency.js';
import { SageMakerFeatureSink } from './SageMakerFeatureSink.js';

const mock = mockClient(SageMakerFeatureStoreRuntimeClient);

/** No waiting between attempts: the backoff's length is AdaptiveConcurrency's to test. */
const newSink = (limits: Partial<AdaptiveConcurrencyOptions> = {}) =>
  new SageMakerFeatureSink({
    client: new SageMakerFeatureStoreRuntimeClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    }),
    limits: { sleep: async () => undefined, ...limits },
  });

const throttled = () =>
  new SageMakerFeatureStoreRuntimeServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });

const idOf = (input: { Record?: { FeatureName?: string; ValueAsString?: string }[] }) =>
  input.Record?.find((value) => value.FeatureName === 'customer_id')?.ValueAsString;

beforeEach(() => {
  mock.reset();
});

afterAll(() => {
  mock.restore();
});

describe('Class: SageMakerFeatureSink', () => {
  describe('Method: putRecords', () => {
    it('sends one PutRecord per record with values as strings and nulls omitted', async () => {
      // Prepare
      mock.on(PutRecordCommand).resolves({});
      const records = [
        { customer_id: '10', order_count: 2, total_spent: 350.5, last_order_date: '2026-01-11' },
        { customer_id: '40', order_count: 0, total_spent: 0, last_order_date: null },
      ];

      // Act
      const result = await newSink().putRecords('customer-features', records);

      // Assess
      expect(result).toEqual({ written: 2, retried: 0, failed: [] });
      const inputs = mock.commandCalls(PutRecordCommand).map((call) => call.args[0].input);
      expect(inputs).toHaveLength(2);
      expect(inputs).toEqual(
        expect.arrayContaining([
          {
            FeatureGroupName: 'customer-features',
            Record: [
              { FeatureName: 'customer_id', ValueAsString: '10' },
              { FeatureName: 'order_count', ValueAsString: '2' },
              { FeatureName: 'total_spent', ValueAsString: '350.5' },
              { FeatureName: 'last_order_date', ValueAsString: '2026-01-11' },
            ],
          },
          {
            FeatureGroupName: 'customer-features',
            Record: [
              { FeatureName: 'customer_id', ValueAsString: '40' },
              { FeatureName: 'order_count', ValueAsString: '0' },
              { FeatureName: 'total_spent', ValueAsString: '0' },
            ],
          },
        ])
      );
    });

    it('sends every record exactly once when there are more records than workers', async () => {
      // Prepare
      mock.on(PutRecordCommand).resolves({});
      const records = Array.from({ length: 25 }, (_, i) => ({ customer_id: String(i) }));

      // Act
      const result = await newSink().putRecords('g', records);

      // Assess
      expect(result).toEqual({ written: 25, retried: 0, failed: [] });
      const ids = mock
        .commandCalls(PutRecordCommand)
        .map((call) => call.args[0].input.Record?.[0]?.ValueAsString);
      expect(ids.sort()).toEqual(records.map((record) => record.customer_id).sort());
    });

    it('sends nothing for no records', async () => {
      // Act
      const result = await newSink().putRecords('g', []);

      // Assess
      expect(result).toEqual({ written: 0, retried: 0, failed: [] });
      expect(mock.commandCalls(PutRecordCommand)).toHaveLength(0);
    });

    it('retries a throttling storm with fewer calls in flight until every record is written', async () => {
      // Prepare: the first 30 calls are throttled, then the service keeps up
      let calls = 0;
      let inFlight = 0;
      const inFlightAtThrottle: number[] = [];
      mock.on(PutRecordCommand).callsFake(async () => {
        calls++;
        inFlight++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        if (calls <= 30) {
          inFlightAtThrottle.push(inFlight + 1);
          throw throttled();
        }
        return {};
      });
      const records = Array.from({ length: 40 }, (_, i) => ({ customer_id: i }));
      const sink = newSink({ initial: 16, max: 16, maxAttempts: 10 });

      // Act
      const result = await sink.putRecords('g', records);

      // Assess
      expect(result).toEqual({ written: 40, retried: 30, failed: [] });
      const ids = mock.commandCalls(PutRecordCommand).map((call) => idOf(call.args[0].input));
      expect(new Set(ids).size).toBe(40);
      // AIMD: the storm halves the limit, so later throttled calls had fewer beside them
      expect(Math.max(...inFlightAtThrottle.slice(-5))).toBeLessThan(
        Math.max(...inFlightAtThrottle.slice(0, 5))
      );
    });

    it('never has more calls in flight than its bound', async () => {
      // Prepare
      let inFlight = 0;
      let peak = 0;
      mock.on(PutRecordCommand).callsFake(async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return {};
      });
      const records = Array.from({ length: 300 }, (_, i) => ({ customer_id: i }));
      const sink = newSink({ initial: 4, max: 6 });

      // Act
      await sink.putRecords('g', records);

      // Assess: it grew from 4 to its bound of 6, never past it
      expect(peak).toBe(6);
      expect(sink.peakConcurrency).toBe(6);
    });

    it('returns the records the service refuses as failed with their error, writing the rest', async () => {
      // Prepare: one record is invalid, one 5xx clears on its retry
      let failedOnce = false;
      mock.on(PutRecordCommand).callsFake(async (input) => {
        const id = idOf(input);
        if (id === '2') {
          throw new ValidationError({
            $metadata: { httpStatusCode: 400 },
            message: 'Missing EventTime feature',
          });
        }
        if (id === '3' && !failedOnce) {
          failedOnce = true;
          throw new InternalFailure({ $metadata: { httpStatusCode: 500 }, message: 'boom' });
        }
        return {};
      });
      const records = [1, 2, 3, 4].map((id) => ({ customer_id: id }));

      // Act
      const result = await newSink().putRecords('g', records);

      // Assess
      expect(result).toEqual({
        written: 3,
        retried: 1,
        failed: [
          {
            record: { customer_id: 2 },
            error: {
              name: ErrorName.Terminal,
              message: expect.stringContaining('ValidationError: Missing EventTime feature'),
            },
          },
        ],
      });
    });

    it('gives a record up as Strata.Transient when its attempts run out', async () => {
      // Prepare: record 1 is throttled every time, record 2 goes through
      mock.on(PutRecordCommand).callsFake(async (input) => {
        if (idOf(input) === '1') throw throttled();
        return {};
      });

      // Act
      const result = await newSink({ maxAttempts: 3 }).putRecords('g', [
        { customer_id: 1 },
        { customer_id: 2 },
      ]);

      // Assess
      expect(result).toMatchObject({
        written: 1,
        retried: 2,
        failed: [{ record: { customer_id: 1 }, error: { name: ErrorName.Transient } }],
      });
    });

    it('rejects as Strata.Transient when nothing gets through the push-back', async () => {
      // Prepare
      mock.on(PutRecordCommand).rejects(throttled());

      // Act
      const act = newSink({ maxAttempts: 2 }).putRecords('g', [{ customer_id: 1 }]);

      // Assess
      await expect(act).rejects.toMatchObject({
        name: ErrorName.Transient,
        message: expect.stringContaining('ThrottlingException'),
      });
    });

    it('turns a generic ValidationException into a failed record', async () => {
      // Prepare
      mock.on(PutRecordCommand).rejects(
        new SageMakerFeatureStoreRuntimeServiceException({
          name: 'ValidationException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'bad record',
        })
      );

      // Act
      const result = await newSink().putRecords('g', [{ customer_id: '1' }]);

      // Assess
      expect(result.failed[0]?.error.name).toBe(ErrorName.Terminal);
    });

    it.each([
      ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
      [
        'an SDK request timeout',
        Object.assign(new Error('request timed out'), { name: 'TimeoutError' }),
      ],
    ])('turns %s into Strata.Transient', async (_case, error) => {
      // Prepare
      mock.on(PutRecordCommand).rejects(error);

      // Act
      const attempt = newSink({ maxAttempts: 2 }).putRecords('group', [{ customer_id: '1' }]);

      // Assess: retried, then the call is given up as the service unavailable
      await expect(attempt).rejects.toMatchObject({ name: ErrorName.Transient });
      expect(mock.commandCalls(PutRecordCommand)).toHaveLength(2);
    });
  });

  describe('Method: deleteRecords', () => {
    it("soft-deletes each record at the run's event time, returning the ones refused with their error", async () => {
      // Prepare
      mock.on(DeleteRecordCommand).callsFake(async (input) => {
        if (input.RecordIdentifierValueAsString === '9') {
          throw new ValidationError({
            $metadata: { httpStatusCode: 400 },
            message: "EventTime is earlier than the record's",
          });
        }
        return {};
      });
      const deletions = ['8', '9'].map((recordId) => ({
        recordId,
        eventTime: '2026-03-02T06:00:00.000Z',
      }));

      // Act
      const result = await newSink().deleteRecords('customer-features', deletions);

      // Assess
      expect(mock.commandCalls(DeleteRecordCommand).map((call) => call.args[0].input)).toEqual(
        expect.arrayContaining([
          {
            FeatureGroupName: 'customer-features',
            RecordIdentifierValueAsString: '8',
            EventTime: '2026-03-02T06:00:00.000Z',
            DeletionMode: 'SoftDelete',
          },
        ])
      );
      expect(result).toEqual({
        deleted: 1,
        retried: 0,
        failed: [
          {
            deletion: deletions[1],
            error: {
              name: ErrorName.Terminal,
              message: expect.stringContaining('DeleteRecord customer-features'),
            },
          },
        ],
      });
    });

    it('rejects as Strata.Transient when every deletion is still throttled', async () => {
      // Prepare
      mock.on(DeleteRecordCommand).rejects(throttled());

      // Act
      const act = newSink({ maxAttempts: 2 }).deleteRecords('g', [
        { recordId: '1', eventTime: '2026-03-02T06:00:00.000Z' },
      ]);

      // Assess
      await expect(act).rejects.toMatchObject({
        name: ErrorName.Transient,
        message: expect.stringContaining('DeleteRecord g'),
      });
    });
  });
});
