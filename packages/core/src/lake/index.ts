export { catalogColumns } from './catalogColumns.js';
export { eachLimited } from './eachLimited.js';
export { assertRunId, type BronzeFormat, datePartition, Lake } from './layout.js';
export { ATHENA_PATH, COMPACTION, latestRowsSql, SILVER_SEQ } from './mergeOnRead.js';
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
  silverRelation,
  viewSilverTable,
} from './silverTable.js';
export { raceBackoff, updateObject } from './updateObject.js';
