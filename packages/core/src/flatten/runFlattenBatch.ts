import { type FeedConfig, feedSchema, parseOrThrow } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import { commitBatch } from './commitBatch.js';
import { type FlatColumn, withCurrentPaths } from './flattenPlan.js';
import { rangeKey } from './lineRange.js';
import { stageBatch } from './stageBatch.js';
import {
  type FlattenBatchInput,
  type FlattenBatchOptions,
  type FlattenBatchResult,
  flattenBatchInputSchema,
} from './types.js';
import { writeDiscovered } from './writeDiscovered.js';
import { writeWitnessed } from './writeWitnessed.js';

/**
 * A feed's configuration as runFlattenBatch takes it; a feed with none gets the defaults.
 *
 * @param feed - the feed's entry under `feeds` in the configuration
 */
export const flattenOptionsOf = (feed: FeedConfig = feedSchema.parse({})): FlattenBatchOptions => ({
  separator: feed.separator,
  maxDepth: feed.max_depth,
  partition: feed.partition,
  leaveInPlace: feed.leave_in_place,
  explode: feed.explode.map((path) => path.split('.')),
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
  const stored = input.registryKey ? await deps.store.get(input.registryKey) : undefined;
  const registry: FlatColumn[] = stored
    ? withCurrentPaths(
        (JSON.parse(new TextDecoder().decode(stored)) as { columns: FlatColumn[] }).columns
      )
    : [];
  return Workspace.use('flatten-batch', async (ws) => {
    const batch = await stageBatch({
      feed,
      batchId,
      // A range of an object is an item of its own in the ledger and in lineage.
      items: input.objects.map((object) => ({
        ...object,
        id: object.range ? rangeKey(object.key, object.range) : object.key,
      })),
      store: deps.store,
      engine: deps.engine,
      ledger: deps.ledger,
      now: deps.now ?? (() => new Date()),
      options: deps.options,
      registry,
      ws,
    });
    const witnessed = deps.options.keyPass === 'always' ? undefined : await writeWitnessed(batch);
    const written = witnessed ?? (await writeDiscovered(batch));
    return { ...(await commitBatch(batch, written)), keyPass: !witnessed };
  });
};
