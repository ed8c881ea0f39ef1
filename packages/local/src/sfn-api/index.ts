export { executionArnOf, mapRunMachineArn, parseStatesArn, type StatesArn } from './arns.js';
export { SfnApiError, SfnErrorCode } from './errors.js';
export { type ExecutionEnd, ExecutionHistory, type HistoryEvent } from './history.js';
export {
  type ExecutionStatus,
  LocalStepFunctions,
  type LocalStepFunctionsOptions,
  REDRIVE_WINDOW_MS,
} from './LocalStepFunctions.js';
export { type LocalExecutions, serveLocalExecutions } from './localExecutions.js';
export {
  type FollowedExecution,
  StepFunctionsExecutions,
  type StepFunctionsExecutionsOptions,
} from './StepFunctionsExecutions.js';
export { SFN_ACTIONS, type SfnApiServer, serveSfnApi } from './serveSfnApi.js';
