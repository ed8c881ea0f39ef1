export { type FlatColumn, type FlattenOptions, flattenPlan, flattenSelect } from './flattenPlan.js';
export { type LoadedRecords, loadRecords, type RawFormat } from './loadRecords.js';
