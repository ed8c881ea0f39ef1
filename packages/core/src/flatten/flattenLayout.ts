/** Where a feed's flattened output, quarantine and schemas live. */
export const FlattenLayout = {
  silverPrefix: (feed: string) => `silver/${feed}/`,
  /** DuckDB names the partition folders; the file name is the batch's, so a retry overwrites it. */
  silverFilePattern: (batchId: string) => `part-${batchId}-{i}`,
  quarantineRecords: (feed: string, batchId: string) =>
    `quarantine/${feed}/batch=${batchId}/records.jsonl`,
  /**
   * An unreadable object's copy, named by its key below `raw/<feed>/` (where every batch's keys
   * are): two objects with one base name never meet, and a retry overwrites its own copy.
   */
  quarantineFile: (feed: string, batchId: string, key: string) =>
    `quarantine/${feed}/batch=${batchId}/files/${key.slice(`raw/${feed}/`.length)}`,
  schemaFragment: (feed: string, batchId: string) => `_schemas/${feed}/fragments/${batchId}.json`,
  /** The Parquet parts a batch wrote, which its result names instead of listing them. */
  batchManifest: (feed: string, batchId: string) => `_backfill/${feed}/batches/${batchId}.json`,
  /** Every key a batch is about to write, recorded before it uploads the first. */
  batchIntent: (feed: string, batchId: string) =>
    `_backfill/${feed}/batches/${batchId}.intent.json`,
  /** The feed's registry: the merged columns every finished run has written. */
  schema: (feed: string) => `_schemas/${feed}/schema.json`,
  processed: (key: string) => `raw-processed/${key.slice('raw/'.length)}`,
} as const;
