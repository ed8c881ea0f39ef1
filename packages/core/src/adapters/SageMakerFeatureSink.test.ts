import {
  InternalFailure,
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
  SageMakerFeatureStoreRuntimeServiceException,
  ValidationError,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { SageMakerFeatureSink } from './SageMakerFeatureSink.js';

const mock = mockClient(SageMakerFeatureStoreRuntimeClient);

const newSink = () =>
  new SageMakerFeatureSink(
    new SageMakerFeatureStoreRuntimeClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    })
  );

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
        { customer_id: '10', order_count: 2, total_spent: 350.5, days_since_last_order: 0 },
        { customer_id: '40', order_count: 0, total_spent: 0, days_since_last_order: null },
      ];

      // Act
      const result = await newSink().putRecords('customer-features', records);

      // Assess
      expect(result).toEqual({ written: 2 });
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
              { FeatureName: 'days_since_last_order', ValueAsString: '0' },
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
      expect(result).toEqual({ written: 25 });
      const ids = mock
        .commandCalls(PutRecordCommand)
        .map((call) => call.args[0].input.Record?.[0]?.ValueAsString);
      expect(ids.sort()).toEqual(records.map((record) => record.customer_id).sort());
    });

    it('sends nothing for no records', async () => {
      // Act
      const result = await newSink().putRecords('g', []);

      // Assess
      expect(result).toEqual({ written: 0 });
      expect(mock.commandCalls(PutRecordCommand)).toHaveLength(0);
    });

    it('turns a ThrottlingException into Strata.Transient', async () => {
      // Prepare
      mock.on(PutRecordCommand).rejects(
        new SageMakerFeatureStoreRuntimeServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'Rate exceeded',
        })
      );

      // Act
      const act = newSink().putRecords('g', [{ customer_id: '1' }]);

      // Assess
      await expect(act).rejects.toMatchObject({
        name: ErrorName.Transient,
        message: expect.stringContaining('ThrottlingException'),
        cause: expect.objectContaining({ name: 'ThrottlingException' }),
      });
    });

    it('turns a 5xx InternalFailure into Strata.Transient', async () => {
      // Prepare
      mock
        .on(PutRecordCommand)
        .rejects(new InternalFailure({ $metadata: { httpStatusCode: 500 }, message: 'boom' }));

      // Act
      const act = newSink().putRecords('g', [{ customer_id: '1' }]);

      // Assess
      await expect(act).rejects.toMatchObject({ name: ErrorName.Transient });
    });

    it('turns a ValidationError into Strata.Terminal', async () => {
      // Prepare
      mock.on(PutRecordCommand).rejects(
        new ValidationError({
          $metadata: { httpStatusCode: 400 },
          message: 'Missing EventTime feature',
        })
      );

      // Act
      const act = newSink().putRecords('g', [{ customer_id: '1' }]);

      // Assess
      await expect(act).rejects.toMatchObject({
        name: ErrorName.Terminal,
        message: expect.stringContaining('ValidationError'),
      });
    });

    it('turns a generic ValidationException into Strata.Terminal', async () => {
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
      const act = newSink().putRecords('g', [{ customer_id: '1' }]);

      // Assess
      await expect(act).rejects.toMatchObject({ name: ErrorName.Terminal });
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
      const attempt = newSink().putRecords('group', [{ customer_id: '1' }]);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: ErrorName.Transient });
    });
  });
});
