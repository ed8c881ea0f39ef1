export {
  type BatchIntent,
  clearUncommitted,
  readCommitted,
  withAdopted,
} from './batchIntent.js';
export { readBatchManifest } from './batchManifest.js';
export {
  type ChildTable,
  childTable,
  type ExplodedArray,
  explodedArrays,
} from './childTables.js';
export { PARTITION_KEYS as SILVER_PARTITION_KEYS } from './constants.js';
export { FlattenLayout } from './flattenLayout.js';
export {
  type FlatColumn,
  type FlattenOptions,
  flattenPlan,
  flattenSelect,
  withCurrentPaths,
} from './flattenPlan.js';
export { MAX_CHILD_TABLES } from './inferredPlan.js';
export { type LoadedRecords, loadRecords, type RawFormat } from './loadRecords.js';
export { type FlattenBatchDeps, flattenOptionsOf, runFlattenBatch } from './runFlattenBatch.js';
export { jsonPath, mergeStructures } from './structure.js';
export {
  type BatchManifest,
  type BatchTyping,
  type FlattenBatchInput,
  type FlattenBatchOptions,
  type FlattenBatchResult,
  flattenBatchInputSchema,
  type LeafCounts,
  type PartitionFields,
  type RecordShape,
  rawKeyProblem,
} from './types.js';
export {
  SHAPE_KEY_CHARS,
  type TypingReport,
  typingReport,
  WIDEST_SHAPES,
} from './typing.js';
export { holdsWideRecords, WIDE_LEAVES } from './wideRecords.js';
