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
