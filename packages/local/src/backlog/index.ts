export {
  BACKLOG_FEEDS,
  type EventLines,
  type EventLinesOptions,
  type GenerateBacklogOptions,
  type GeneratedBacklog,
  type GeneratedObject,
  generateBacklog,
  writeEventLines,
} from './generateBacklog.js';
