export {
  type PlanRunInput,
  type PlanRunResult,
  planRunInputSchema,
  runPlanRun,
  runRequestSchema,
} from './runPlanRun.js';
