import {
  DeleteRecordCommand,
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { ErrorName, TransientError } from '../errors/index.js';
import type {
  DeleteRecordsResult,
  FeatureDeletion,
  FeatureRecord,
  FeatureSink,
  PutRecordsResult,
} from '../ports/index.js';
import { AdaptiveConcurrency, type AdaptiveConcurrencyOptions } from './AdaptiveConcurrency.js';
import { translateAwsError } from './translateAwsError.js';

/**
 * PutRecord calls in flight: from 8, up to 64 while the service keeps up (the account's 10,000
 * PutRecord TPS at ~10 ms each is ~100 in flight, shared by every writer), down to 1 under
 * throttling; six attempts per record, backing off up to 50 ms × 2^n with full jitter (≤ 5 s).
 */
const DEFAULT_LIMITS: AdaptiveConcurrencyOptions = {
  initial: 8,
  min: 1,
  max: 64,
  maxAttempts: 6,
  baseDelayMs: 50,
  maxDelayMs: 5_000,
};

export interface SageMakerFeatureSinkOptions {
  client?: SageMakerFeatureStoreRuntimeClient;
  /** Concurrency and retry settings over {@link DEFAULT_LIMITS}. */
  limits?: Partial<AdaptiveConcurrencyOptions>;
}

const isTransient = (error: unknown) =>
  error instanceof Error && error.name === ErrorName.Transient;

/**
 * {@link FeatureSink} on SageMaker Feature Store: PutRecord to the online store, which the
 * service replicates to the offline store on the lake, and DeleteRecord for records gone from
 * the model. Calls run under an
 * {@link AdaptiveConcurrency}: throttling and 5xx shrink the calls in flight and are retried;
 * a record the service refuses (validation) or that is still pushed back after its attempts is
 * returned as failed, with its error.
 */
export class SageMakerFeatureSink implements FeatureSink {
  readonly #client: SageMakerFeatureStoreRuntimeClient;
  readonly #limiter: AdaptiveConcurrency;
  readonly #maxAttempts: number;

  constructor(options: SageMakerFeatureSinkOptions = {}) {
    this.#client = options.client ?? new SageMakerFeatureStoreRuntimeClient({});
    // One limiter per sink: what one batch learned of the service's pace, the next starts from.
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#limiter = new AdaptiveConcurrency(limits);
    this.#maxAttempts = limits.maxAttempts;
  }

  /** The most PutRecord calls this sink ever had in flight at once. */
  get peakConcurrency(): number {
    return this.#limiter.peak;
  }

  async putRecords(
    featureGroup: string,
    records: readonly FeatureRecord[]
  ): Promise<PutRecordsResult> {
    const { done, retried, failed } = await this.#each(
      `PutRecord ${featureGroup}`,
      records,
      (record) => this.#put(featureGroup, record)
    );
    return {
      written: done,
      retried,
      failed: failed.map(({ item, error }) => ({ record: item, error })),
    };
  }

  async deleteRecords(
    featureGroup: string,
    deletions: readonly FeatureDeletion[]
  ): Promise<DeleteRecordsResult> {
    const { done, retried, failed } = await this.#each(
      `DeleteRecord ${featureGroup}`,
      deletions,
      (deletion) => this.#delete(featureGroup, deletion)
    );
    return {
      deleted: done,
      retried,
      failed: failed.map(({ item, error }) => ({ deletion: item, error })),
    };
  }

  /**
   * Calls the service once per item under the limiter; returns what failed with its error.
   * Rejects as `Strata.Transient` when nothing got through and only for push-back: the service,
   * not these items, is the problem, so the stage's retry (after Step Functions' backoff) should
   * send them.
   */
  async #each<T>(what: string, items: readonly T[], call: (item: T) => Promise<void>) {
    const { outcomes, retried } = await this.#limiter.each(items, call, isTransient);
    const failed = outcomes.flatMap((outcome, i) => {
      if (outcome.ok) return [];
      const error =
        outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
      return [{ item: items[i] as T, error: { name: error.name, message: error.message } }];
    });
    const done = items.length - failed.length;
    if (
      items.length > 0 &&
      done === 0 &&
      failed.every((f) => f.error.name === ErrorName.Transient)
    ) {
      throw new TransientError(
        `feature store ${what}: all ${items.length} record(s) still pushed back after ${this.#maxAttempts} attempts; last: ${failed.at(-1)?.error.message}`
      );
    }
    return { done, retried, failed };
  }

  /** SoftDelete, SageMaker's default: GetRecord no longer finds it, the offline store gets a marker. */
  async #delete(featureGroup: string, deletion: FeatureDeletion): Promise<void> {
    try {
      await this.#client.send(
        new DeleteRecordCommand({
          FeatureGroupName: featureGroup,
          RecordIdentifierValueAsString: deletion.recordId,
          EventTime: deletion.eventTime,
          DeletionMode: 'SoftDelete',
        })
      );
    } catch (error) {
      throw translateAwsError(error, `feature store DeleteRecord ${featureGroup}`);
    }
  }

  async #put(featureGroup: string, record: FeatureRecord): Promise<void> {
    try {
      await this.#client.send(
        new PutRecordCommand({
          FeatureGroupName: featureGroup,
          // The Feature Store takes every value as a string and omits missing features.
          Record: Object.entries(record)
            .filter(([, value]) => value !== null && value !== undefined)
            .map(([FeatureName, value]) => ({ FeatureName, ValueAsString: String(value) })),
        })
      );
    } catch (error) {
      throw translateAwsError(error, `feature store PutRecord ${featureGroup}`);
    }
  }
}
