export {
  type DeadLetter,
  EmbeddedRuntime,
  type EmbeddedRuntimeOptions,
  type ExecuteOptions,
  LOCAL_BUCKET,
  type LocalAlert,
  localBindings,
  MACHINES,
  type MachineName,
} from './EmbeddedRuntime.js';
export { handlerFileOf, loadLocalFunction } from './localFunctions.js';
export { type SummarizeOptions, type SummaryRow, summarizeRun } from './summarizeRun.js';
