/** Requests to S3 and the ledger in flight at once: a batch holds up to thousands of objects. */
export const IO_CONCURRENCY = 16;
/**
 * How long a batch's claim on an object lasts. FlattenBatch runs at most 15 minutes
 * (stacks/backfill.ts) and a Task's TimeoutSeconds does not stop it, while a retry of the batch
 * renews its claims within a minute of the last attempt ending: twice the function's limit
 * lapses only once no attempt of the batch can still be running or about to start.
 */
export const CLAIM_LEASE_MS = 30 * 60_000;
/**
 * Batches that may take an object before the next one quarantines it with the last error
 * instead: an object that fails or kills every batch must not hold up the backlog for good.
 */
export const MAX_ATTEMPTS = 3;
/** Lines of each JSON Lines file, and lines spread over the batch, that seed its structure. */
export const SAMPLE_HEAD = 10;
export const SAMPLE_SPREAD = 1000;
/**
 * The most one gzip object may inflate to: FlattenBatch has 10 GB of /tmp (stacks/backfill.ts),
 * which the inflated file shares with its masked copy, DuckDB's spill and the Parquet output.
 */
export const MAX_INFLATED_BYTES = 4 * 1024 ** 3;
/**
 * The longest record (a line, an element, a document) a batch reads, which every DuckDB JSON
 * reader is told to take (its own default is 16 MiB); a JSON Lines object with a longer line is
 * quarantined whole, naming it. DuckDB parses a record into a tree several times its size, and
 * FlattenBatch has 3.5 GB (stacks/backfill.ts).
 */
export const MAX_RECORD_BYTES = 128 * 1024 ** 2;
/**
 * DuckDB's `maximum_object_size` option for JSON values up to `bytes` long: its default, 16 MiB,
 * unless they need more. DuckDB allocates read buffers of that size (one of 128 MiB failed a
 * batch of two 50 MB records at a 2 GB memory limit), so it is never set above what a batch needs.
 *
 * @param bytes - the longest value to read
 */
export const maximumObjectSize = (bytes: number) =>
  `maximum_object_size = ${Math.max(16 * 1024 ** 2, Math.ceil(bytes) + 1024)}`;
/** DuckDB's errors about the data it read, which the key pass finds out about and handles. */
export const DATA_ERROR = /^(Invalid Input|Conversion) Error/;
/** The partition value of a record whose date or mode is missing (Hive's and DuckDB's). */
export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';
/**
 * Columns every silver row gets besides the record's own, the hive keys of its partition folders
 * in path order first; a record field of the same name is renamed.
 */
export const PARTITION_KEYS = ['year', 'month', 'day', 'mode'] as const;
export const LINEAGE = ['_variant', '_source_key', '_source_line', '_batch_id'] as const;
