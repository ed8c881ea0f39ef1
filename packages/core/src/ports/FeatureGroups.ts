/** A feature group as the feature store's control plane describes it. */
export interface FeatureGroupDescription {
  /**
   * SageMaker's FeatureGroupStatus: `Creating`, `Created`, `CreateFailed`, `Deleting`,
   * `DeleteFailed`. Only `Created` takes records.
   */
  status: string;
  /** The offline store's status (`Active`, `Blocked`, `Disabled`), when the group has one. */
  offlineStoreStatus?: string;
  /** Why creating or deleting it failed, or why its offline store is blocked. */
  reason?: string;
}

/** The feature store's control plane (SageMaker in AWS, the embedded runtime's store locally). */
export interface FeatureGroups {
  /** The group's state, or undefined when no group has that name. */
  describe(featureGroup: string): Promise<FeatureGroupDescription | undefined>;
}
