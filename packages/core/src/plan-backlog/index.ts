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
  runPlanBacklog,
} from './runPlanBacklog.js';
