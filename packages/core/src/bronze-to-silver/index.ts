export { qualityScore, rejectReason, standardisedColumns } from './contract.js';
export { createEmptyHistory, historySql } from './history.js';
export type { SilverHistory } from './historyTable.js';
export {
  type BronzeToSilverDeps,
  type BronzeToSilverInput,
  type BronzeToSilverResult,
  bronzeToSilverInputSchema,
  runBronzeToSilver,
  type SilverDataset,
  type SkippedExtract,
} from './runBronzeToSilver.js';
