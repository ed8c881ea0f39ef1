export {
  type BronzeToSilverDeps,
  type BronzeToSilverInput,
  type BronzeToSilverResult,
  bronzeToSilverInputSchema,
  runBronzeToSilver,
  type SilverDataset,
  type SkippedExtract,
} from './runBronzeToSilver.js';
