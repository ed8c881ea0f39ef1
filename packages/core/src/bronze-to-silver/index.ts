export {
  type BronzeToSilverDeps,
  type BronzeToSilverInput,
  type BronzeToSilverResult,
  bronzeToSilverInputSchema,
  runBronzeToSilver,
  type SilverDataset,
} from './runBronzeToSilver.js';
