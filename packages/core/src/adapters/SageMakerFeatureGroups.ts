import { DescribeFeatureGroupCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { FeatureGroupDescription, FeatureGroups } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

/**
 * {@link FeatureGroups} on SageMaker's control plane (DescribeFeatureGroup).
 *
 * @example
 * const groups = new SageMakerFeatureGroups();
 * const group = await groups.describe(Resource.FeatureGroup.name);
 */
export class SageMakerFeatureGroups implements FeatureGroups {
  readonly #client: SageMakerClient;

  constructor(client?: SageMakerClient) {
    this.#client = client ?? new SageMakerClient({});
  }

  async describe(featureGroup: string): Promise<FeatureGroupDescription | undefined> {
    try {
      const out = await this.#client.send(
        new DescribeFeatureGroupCommand({ FeatureGroupName: featureGroup })
      );
      const reason = out.FailureReason ?? out.OfflineStoreStatus?.BlockedReason;
      return {
        status: out.FeatureGroupStatus ?? 'Unknown',
        ...(out.OfflineStoreStatus?.Status
          ? { offlineStoreStatus: out.OfflineStoreStatus.Status }
          : {}),
        ...(reason ? { reason } : {}),
      };
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFound') return undefined;
      throw translateAwsError(error, `feature store DescribeFeatureGroup ${featureGroup}`);
    }
  }
}
