export {
  brokenRows,
  checkQuality,
  type QualityReport,
  type RuleOutcome,
} from './checkQuality.js';
export { parseQualityRules, type QualityRule, type Severity } from './rules.js';
