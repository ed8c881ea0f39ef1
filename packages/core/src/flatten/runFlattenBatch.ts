import { tmpdir } from 'node:os';
import { type FeedConfig, feedSchema, parseOrThrow } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { asDiskFull } from '../errors/index.js';
import { eachLimited } from '../lake/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import { clearUncommitted } from './batchIntent.js';
import { commitBatch } from './commitBatch.js';
import { IO_CONCURRENCY, type MAX_ATTEMPTS } from './constants.js';
import { type FlatColumn, withCurrentPaths } from './flattenPlan.js';
import { rangeKey } from './lineRange.js';
import { stageBatch } from './stageBatch.js';
import {
  type FlattenBatchInput,
  type FlattenBatchOptions,
  type FlattenBatchResult,
  flattenBatchInputSchema,
  type StagedBatch,
} from './types.js';
import { writeDiscovered } from './writeDiscovered.js';
import { writeInferred } from './writeInferred.js';
import { writeWitnessed } from './writeWitnessed.js';

/**
 * How deep a batch planned from its sample flattens objects when the feed sets no `max_depth`:
 * at any depth, as a wide batch is typed ({@link writeInferred}). That plan's cost grows with
 * its columns ({@link flattenSelect}), not their depth, and a sample that takes it holds fewer
 * than `WIDE_LEAVES` leaf paths unless the feed turns inference off (`infer: never`). A path the
 * registry holds as one JSON column (a feed flattened to 3 before) stays one.
 */
const SAMPLED_MAX_DEPTH = Number.POSITIVE_INFINITY;

/**
 * A feed's configuration as runFlattenBatch takes it; a feed with none gets the defaults.
 *
 * @param feed - the feed's entry under `feeds` in the configuration
 */
export const flattenOptionsOf = (feed: FeedConfig = feedSchema.parse({})): FlattenBatchOptions => ({
  separator: feed.separator,
  maxDepth: feed.max_depth ?? SAMPLED_MAX_DEPTH,
  ...(feed.max_depth !== undefined ? { depthCap: feed.max_depth } : {}),
  infer: feed.infer,
  partition: {
    ...(feed.partition.date !== undefined ? { date: feed.partition.date } : {}),
    ...(feed.partition.mode !== undefined ? { mode: feed.partition.mode } : {}),
    ...(feed.partition.date_format !== undefined ? { dateFormat: feed.partition.date_format } : {}),
  },
  leaveInPlace: feed.leave_in_place,
  explode: feed.explode.map((path) => path.split('.')),
  childTables: feed.child_tables,
  keyPass: feed.key_pass,
});

export interface FlattenBatchDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  ledger: Ledger;
  options: FlattenBatchOptions;
  now?: () => Date;
}

/**
 * Flattens one planned batch of raw nested-JSON objects into partitioned silver Parquet.
 *
 * Objects another batch owns or already finished are skipped (the ledger decides); the batch's
 * own, including ones it marked done before a crash, are processed again so a retry rewrites the
 * same deterministic files ({@link stageBatch}). An item may be a byte range of a JSON Lines
 * object: its lines are read and kept in the ledger and lineage as `<key>#bytes=<range>`.
 *
 * Reading is one pass of DuckDB's JSON reader over all clean files, with the columns Strata
 * planned from the registry and a sample; the reader, its columns detected from a witness,
 * fails rather than drop a key the plan lacks ({@link writeWitnessed}). When it fails, or a
 * value does not fit a column the sample typed, the batch lists every record's keys and kinds
 * and reads again, so no field is dropped ({@link writeDiscovered}). Lines that hold no record
 * are masked out of the read, and files the reader cannot take whole (a blank line between
 * records, a key twice, a scalar where objects were seen) go line by line instead; what is not
 * a JSON object goes to quarantine with its file, line and reason. Records read must equal rows
 * written plus records quarantined before the ledger marks anything SUCCEEDED, and only then are
 * raw objects (an object in ranges: once all its ranges are done) moved to raw-processed/
 * ({@link commitBatch}).
 *
 * @param raw - the map item
 * @param deps - lake, engine, ledger and the feed's flatten options
 */
export const runFlattenBatch = async (
  raw: FlattenBatchInput,
  deps: FlattenBatchDeps
): Promise<FlattenBatchResult> => {
  const input = parseOrThrow(flattenBatchInputSchema, raw, 'flatten-batch input');
  const { feed, batchId } = input;
  const now = deps.now ?? (() => new Date());
  // A range of an object is an item of its own in the ledger and in lineage.
  const items = input.objects.map((object) => ({
    ...object,
    id: object.range ? rangeKey(object.key, object.range) : object.key,
  }));
  try {
    const stored = input.registryKey ? await deps.store.get(input.registryKey) : undefined;
    const registry: FlatColumn[] = stored
      ? withCurrentPaths(
          (JSON.parse(new TextDecoder().decode(stored)) as { columns: FlatColumn[] }).columns
        )
      : [];
    return await Workspace.use('flatten-batch', async (ws) => {
      const batch = await stageBatch({
        feed,
        batchId,
        items,
        store: deps.store,
        engine: deps.engine,
        ledger: deps.ledger,
        now,
        options: deps.options,
        registry,
        ws,
      });
      const write = async () => {
        const inferred = await writeInferred(batch);
        if (inferred) return { written: inferred, discovered: false };
        const witnessed =
          deps.options.keyPass === 'always' ? undefined : await writeWitnessed(batch);
        return { written: witnessed ?? (await writeDiscovered(batch)), discovered: !witnessed };
      };
      const { written, discovered } = holdsManySmallFiles(batch)
        ? await deps.engine.withThreads(1, write)
        : await write();
      return commitBatch(batch, written, discovered);
    });
  } catch (thrown) {
    // Node and DuckDB write the workspace in many places; a full disk is named once, here.
    const error = await asDiskFull(thrown, tmpdir());
    // Left undone, the claims lapse with their lease and the next batch clears up instead.
    await release(deps, { feed, batchId, ids: items.map((item) => item.id), now }, error).catch(
      () => undefined
    );
    throw error;
  }
};

/** Files of a batch past which, if they average less than {@link SMALL_FILE_BYTES}, it is written on one thread. */
const SMALL_FILES = 64;
const SMALL_FILE_BYTES = 1024 ** 2;

/**
 * Whether a batch reads many small files: DuckDB's parallel write, which keeps the rows' order,
 * prepares each file's rows as a row group of every column of their own. 200 package.json files
 * (1,000 columns) took 11–27 s to write on two threads and 1.2–1.8 s on one, and read into a
 * table on two threads they ran out of 1.9 GiB.
 */
const holdsManySmallFiles = (batch: StagedBatch) => {
  const read = batch.objects.filter((o) => o.path !== 'none');
  const bytes = read.reduce((total, o) => total + o.info.bytes, 0);
  return read.length > SMALL_FILES && bytes < read.length * SMALL_FILE_BYTES;
};

/**
 * Hands a failed batch's objects back: removes what it uploaded unless it committed, then marks
 * the objects it still holds FAILED with the error, for the next run to retry (and, after
 * {@link MAX_ATTEMPTS} batches, to quarantine). A committed batch keeps its claims for a retry
 * or a taker to finish.
 */
const release = async (
  deps: FlattenBatchDeps,
  batch: { feed: string; batchId: string; ids: string[]; now: () => Date },
  error: unknown
) => {
  const { feed, batchId, ids, now } = batch;
  if ((await clearUncommitted(deps.store, feed, batchId)) === 'committed') return;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const held = [...(await deps.ledger.getMany(ids)).values()].filter(
    (entry) => entry.status === 'PROCESSING' && entry.batchId === batchId
  );
  await eachLimited(held, IO_CONCURRENCY, (entry) =>
    deps.ledger.fail(entry.objectKey, batchId, reason, now())
  );
};
