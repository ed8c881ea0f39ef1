export {
  FEATURE_MODEL,
  type FeatureIngestDeps,
  type FeatureIngestInput,
  type FeatureIngestResult,
  featureIngestInputSchema,
  runFeatureIngest,
} from './runFeatureIngest.js';
