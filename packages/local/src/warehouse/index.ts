export { advanceDay, type SimulatedDay } from './advanceDay.js';
export {
  type SeedTpchOptions,
  type SeedTpchResult,
  SIMULATION_SCHEMA,
  seedTpch,
  TPCH_SCHEMA,
} from './seedTpch.js';
