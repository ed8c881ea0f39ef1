import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TransientError } from '../errors/index.js';
import type { DeadLetter, DeadLetterQueue } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

/** SendMessageBatch takes at most 10 messages. */
const BATCH = 10;
/** Messages are at most 256 KiB; a record's payload is cut to keep the letter under it. */
const MAX_MESSAGE_BYTES = 256 * 1024;

export interface SqsDeadLetterQueueOptions {
  queueUrl: string;
  client?: SQSClient;
}

/** A letter as one SQS message body, its payload replaced by a note when it would not fit. */
const bodyOf = (letter: DeadLetter): string => {
  const body = JSON.stringify(letter);
  if (Buffer.byteLength(body) <= MAX_MESSAGE_BYTES) return body;
  return JSON.stringify({
    ...letter,
    payload: `(${Buffer.byteLength(body)} bytes: too large for SQS; see the stage's input)`,
  });
};

/**
 * {@link DeadLetterQueue} on SQS: SendMessageBatch, ten letters a call. Entries SQS reports as
 * failed are sent once more; any still failing reject the call as `Strata.Transient`, so the
 * stage's retry sends them (a letter may then arrive twice, which the port allows).
 */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: SqsDeadLetterQueueOptions) {
    this.#client = options.client ?? new SQSClient({});
    this.#queueUrl = options.queueUrl;
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    for (let start = 0; start < letters.length; start += BATCH) {
      let entries = letters
        .slice(start, start + BATCH)
        .map((letter, i) => ({ Id: String(start + i), MessageBody: bodyOf(letter) }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        const result = await this.#client
          .send(new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: entries }))
          .catch((error: unknown) => {
            throw translateAwsError(error, `sqs SendMessageBatch ${this.#queueUrl}`);
          });
        const failed = new Set((result.Failed ?? []).map((entry) => entry.Id));
        entries = entries.filter((entry) => failed.has(entry.Id));
        if (entries.length > 0 && attempt >= 2) {
          const first = result.Failed?.[0];
          throw new TransientError(
            `sqs SendMessageBatch ${this.#queueUrl}: ${entries.length} dead letter(s) not accepted: ${first?.Code}: ${first?.Message}`
          );
        }
      }
    }
  }
}
