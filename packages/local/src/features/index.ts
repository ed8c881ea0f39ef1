export { LocalDeadLetterQueue } from './LocalDeadLetterQueue.js';
export {
  LOCAL_FEATURE_GROUP_OWNER,
  LocalFeatureStore,
  type LocalFeatureStoreOptions,
  localOfflineRoot,
} from './LocalFeatureStore.js';
