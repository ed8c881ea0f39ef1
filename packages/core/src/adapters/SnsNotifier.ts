import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

/** SNS refuses an e-mail subject over 100 characters. */
const SUBJECT_LIMIT = 100;

/**
 * {@link Notifier} on an SNS topic: the alert topic every alarm and failure branch publishes to.
 *
 * @example
 * const notifier = new SnsNotifier({ topicArn: Resource.Alerts.arn });
 */
export class SnsNotifier implements Notifier {
  readonly #topicArn: string;
  readonly #client: SNSClient;

  constructor(options: { topicArn: string; client?: SNSClient }) {
    this.#topicArn = options.topicArn;
    this.#client = options.client ?? new SNSClient({});
  }

  async notify(subject: string, message: string): Promise<void> {
    try {
      await this.#client.send(
        new PublishCommand({
          TopicArn: this.#topicArn,
          Subject: subject.slice(0, SUBJECT_LIMIT),
          Message: message,
        })
      );
    } catch (error) {
      throw translateAwsError(error, `sns publish ${this.#topicArn}`);
    }
  }
}
