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
  DEFAULT_MAX_FILES_PER_BATCH,
  DEFAULT_TARGET_BATCH_BYTES,
  MAX_BATCH_ITEM_BYTES,
  type PlanBacklogDeps,
  type PlanBacklogInput,
  type PlanBacklogResult,
  planBacklogInputSchema,
  planKey,
  refusedKey,
  registryKey,
  runPlanBacklog,
  WIDE_BATCH_BYTES,
} from './runPlanBacklog.js';
export {
  BATCH_BUDGET_SECONDS,
  DEFAULT_BYTES_PER_SECOND,
  FLATTEN_TIMEOUT_SECONDS,
  planningRate,
  type Throughput,
  throughputKey,
} from './throughput.js';
export { type IsoWeek, isoWeekOf, previousWeekPrefix, weekPrefix } from './weekPrefix.js';
