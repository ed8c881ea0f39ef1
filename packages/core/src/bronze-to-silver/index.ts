export { qualityScore, rejectReason, standardisedColumns } from './contract.js';
export { createEmptyHistory, historySql } from './history.js';
export {
  type BronzeToSilverDeps,
  type BronzeToSilverInput,
  type BronzeToSilverResult,
  bronzeToSilverInputSchema,
  runBronzeToSilver,
  type SilverDataset,
  type SilverHistory,
  type SkippedExtract,
} from './runBronzeToSilver.js';
