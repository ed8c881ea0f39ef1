export {
  contractMismatches,
  FEATURE_TYPES,
  type FeatureContract,
  type FeatureDefinition,
  type FeatureType,
  featureTypeOf,
  GLUE_TYPE,
  modelFeatures,
  parseFeatureContract,
  STORAGE_TYPE,
} from './contract.js';
export { featureRecordSchema, recordProblems } from './recordSchema.js';
