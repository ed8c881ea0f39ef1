export {
  type BronzeManifest,
  type ExtractDeps,
  type ExtractInput,
  type ExtractResult,
  extractInputSchema,
  runExtract,
} from './runExtract.js';
