export { type FeatureIngestResult, finishFeatureIngest } from './finishFeatureIngest.js';
export { type FeatureRangeResult, ingestFeatureRange } from './ingestFeatureRange.js';
export {
  FEATURE_MODEL,
  type FeatureIngestPlanResult,
  type FeatureIngestSettings,
  loadFeatureContract,
  MAX_RANGES,
  planFeatureIngest,
} from './planFeatureIngest.js';
export {
  type FeatureIngestDeps,
  type FeatureIngestInput,
  featureIngestInputSchema,
  runFeatureIngest,
  runFeatureIngestStep,
} from './runFeatureIngest.js';
export { FeatureState } from './state.js';
