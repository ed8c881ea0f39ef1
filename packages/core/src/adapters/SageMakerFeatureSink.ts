import {
  PutRecordCommand,
  SageMakerFeatureStoreRuntimeClient,
} from '@aws-sdk/client-sagemaker-featurestore-runtime';
import { eachLimited } from '../lake/index.js';
import type { FeatureRecord, FeatureSink } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

/** PutRecord calls in flight at once: well under the per-group write throughput limits. */
const CONCURRENCY = 8;

/**
 * {@link FeatureSink} on SageMaker Feature Store: PutRecord to the online store, which the
 * service replicates to the offline store on the lake.
 */
export class SageMakerFeatureSink implements FeatureSink {
  readonly #client: SageMakerFeatureStoreRuntimeClient;

  constructor(client?: SageMakerFeatureStoreRuntimeClient) {
    this.#client = client ?? new SageMakerFeatureStoreRuntimeClient({});
  }

  async putRecords(
    featureGroup: string,
    records: readonly FeatureRecord[]
  ): Promise<{ written: number }> {
    await eachLimited(records, CONCURRENCY, (record) => this.#put(featureGroup, record));
    return { written: records.length };
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
