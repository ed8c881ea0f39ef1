export { type LoadedRecords, loadRecords, type RawFormat } from './loadRecords.js';
