export {
  type BinPackOptions,
  binPack,
  isSplittable,
  type PlannedBatch,
  type PlannedObject,
} from './binPack.js';
export {
  decodeInventoryKey,
  INVENTORY_PREFIX,
  inventoryObjects,
  parseCsvLine,
} from './inventoryObjects.js';
export {
  type PlanBacklogDeps,
  type PlanBacklogInput,
  type PlanBacklogResult,
  planBacklogInputSchema,
  planKey,
  registryKey,
  runPlanBacklog,
} from './runPlanBacklog.js';
export { type IsoWeek, isoWeekOf, previousWeekPrefix, weekPrefix } from './weekPrefix.js';
