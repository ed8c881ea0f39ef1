export { catalogColumns } from './catalogColumns.js';
export { eachLimited } from './eachLimited.js';
export { assertRunId, type BronzeFormat, datePartition, Lake } from './layout.js';
export { writeParquetFile, writeParquetObject } from './parquet.js';
export {
  downloadSilverFiles,
  NULL_PARTITION,
  readSilverManifest,
  type SilverFile,
  type SilverManifest,
  silverFileKey,
  silverManifestKey,
  silverManifestSchema,
  viewSilverTable,
} from './silverTable.js';
export { raceBackoff, updateObject } from './updateObject.js';
