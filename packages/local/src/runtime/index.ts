export {
  BREAKER_TABLE,
  type DeadHolder,
  type DeadLetter,
  EmbeddedRuntime,
  type EmbeddedRuntimeOptions,
  type ExecuteOptions,
  LEDGER_TABLE,
  LOCAL_BUCKET,
  LOCK_FILE,
  type LocalAlert,
  localBindings,
  localMachineArn,
  localMachineName,
  MACHINES,
  type MachineName,
  WATERMARK_TABLE,
} from './EmbeddedRuntime.js';
export { handlerFileOf, lambdaContext, loadLocalFunction } from './localFunctions.js';
export { type SummarizeOptions, type SummaryRow, summarizeRun } from './summarizeRun.js';
