export {
  BACKLOG_FEEDS,
  type GenerateBacklogOptions,
  type GeneratedBacklog,
  type GeneratedObject,
  generateBacklog,
} from './generateBacklog.js';
