export {
  GOLD_MODELS,
  type GoldModelName,
  loadGoldModel,
  parseModel,
  type SqlModel,
} from './models.js';
export {
  type GoldModelResult,
  runSilverToGold,
  type SilverToGoldDeps,
  type SilverToGoldInput,
  type SilverToGoldResult,
  silverToGoldInputSchema,
} from './runSilverToGold.js';
