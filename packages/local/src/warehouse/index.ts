export { type SeedTpchOptions, type SeedTpchResult, seedTpch, TPCH_SCHEMA } from './seedTpch.js';
