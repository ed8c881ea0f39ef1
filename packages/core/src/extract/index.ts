export {
  type BronzeManifest,
  type ExtractDeps,
  type ExtractInput,
  type ExtractResult,
  extractInputSchema,
  readBronzeManifest,
  runExtract,
} from './runExtract.js';
