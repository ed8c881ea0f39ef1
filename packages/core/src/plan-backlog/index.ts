export {
  type BinPackOptions,
  binPack,
  isSplittable,
  type PlannedBatch,
  type PlannedObject,
} from './binPack.js';
export {
  type PlanBacklogDeps,
  type PlanBacklogInput,
  type PlanBacklogResult,
  planBacklogInputSchema,
  planKey,
  registryKey,
  runPlanBacklog,
} from './runPlanBacklog.js';
