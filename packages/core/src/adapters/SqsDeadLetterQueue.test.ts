import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import type { DeadLetter } from '../ports/index.js';
import { SqsDeadLetterQueue } from './SqsDeadLetterQueue.js';

const mock = mockClient(SQSClient);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/111122223333/features-dlq';

const letter = (key: string, payload: unknown = { customer_id: Number(key) }): DeadLetter => ({
  stage: 'feature-ingest',
  target: 'customer-features',
  runId: 'run-1',
  key,
  error: { name: 'Strata.Terminal', message: 'ValidationError: bad' },
  payload,
});

const newQueue = () =>
  new SqsDeadLetterQueue({
    queueUrl: QUEUE,
    client: new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  });

beforeEach(() => {
  mock.reset();
});

afterAll(() => {
  mock.restore();
});

describe('Class: SqsDeadLetterQueue', () => {
  describe('Method: send', () => {
    it('sends each letter as one message body, ten to a batch', async () => {
      // Prepare
      mock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
      const letters = Array.from({ length: 23 }, (_, i) => letter(String(i)));

      // Act
      await newQueue().send(letters);

      // Assess
      const batches = mock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
      expect(batches.map((b) => b.Entries?.length)).toEqual([10, 10, 3]);
      expect(batches.every((b) => b.QueueUrl === QUEUE)).toBe(true);
      const bodies = batches
        .flatMap((b) => b.Entries ?? [])
        .map((e) => JSON.parse(e.MessageBody ?? ''));
      expect(bodies).toEqual(letters);
    });

    it('sends the entries SQS failed once more, and rejects as Strata.Transient if they fail again', async () => {
      // Prepare: entry 1 fails twice, entry 0 once
      mock
        .on(SendMessageBatchCommand)
        .resolvesOnce({
          Failed: [
            { Id: '0', Code: 'InternalError', SenderFault: false },
            { Id: '1', Code: 'InternalError', SenderFault: false },
          ],
        })
        .resolvesOnce({
          Failed: [{ Id: '1', Code: 'InternalError', Message: 'try later', SenderFault: false }],
        });

      // Act
      const attempt = newQueue().send([letter('0'), letter('1'), letter('2')]);

      // Assess
      await expect(attempt).rejects.toMatchObject({
        name: ErrorName.Transient,
        message: expect.stringContaining('1 dead letter(s) not accepted: InternalError: try later'),
      });
      const calls = mock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries);
      expect(calls.map((entries) => entries?.map((e) => e.Id))).toEqual([
        ['0', '1', '2'],
        ['0', '1'],
      ]);
    });

    it('keeps a letter under 256 KiB by leaving out a payload too large for it', async () => {
      // Prepare
      mock.on(SendMessageBatchCommand).resolves({});

      // Act
      await newQueue().send([letter('9', { blob: 'x'.repeat(300 * 1024) })]);

      // Assess
      const [entry] = mock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
      const body = JSON.parse(entry?.MessageBody ?? '');
      expect(body).toMatchObject({ key: '9', error: { name: 'Strata.Terminal' } });
      expect(body.payload).toMatch(/too large for SQS/);
    });
  });
});
