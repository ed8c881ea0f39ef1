export {
  type GenerateBacklogOptions,
  type GeneratedBacklog,
  type GeneratedObject,
  generateBacklog,
} from './generateBacklog.js';
