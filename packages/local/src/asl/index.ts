export { type LocalClock, ManualClock, realClock } from './clock.js';
export type { MapRunCounts, MapRunReport } from './distributedMap/shapes.js';
export type {
  LocalExecutionOutcome,
  LocalFunction,
  LocalIntegrations,
  RedrivePoint,
} from './LocalIntegrations.js';
export { type LargestPayload, MAX_PAYLOAD_BYTES } from './payloadLimit.js';
export {
  type LocalExecutionOptions,
  type LocalRedriveOptions,
  redriveLocalExecution,
  runLocalExecution,
} from './runLocalExecution.js';
