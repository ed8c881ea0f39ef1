import { z } from 'zod';
import type { FeedConfig } from '../config/index.js';
import type { DuckDbEngine, Workspace } from '../engine/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import type { ChildTable } from './childTables.js';
import type { FlatColumn } from './flattenPlan.js';
import type { RawObjectInfo } from './rawObject.js';

/*
 * The types FlattenBatch's steps share (the map item, the options, the staged batch, what a
 * write produced and the result), in a module of their own so the steps import them without
 * importing each other.
 */

/**
 * Why a batch may not take `key` as one of its feed's raw objects, if it may not. A batch moves
 * and deletes the objects it names: only its own feed's raw objects, by a key no store could read
 * as another (s3rver maps `..` onto its directories; a path-style client may normalise it away).
 *
 * @param feed - the batch's feed
 * @param key - an object key
 */
export const rawKeyProblem = (feed: string, key: string): string | undefined => {
  const prefix = `raw/${feed}/`;
  if (!key.startsWith(prefix)) return `must name an object under ${prefix}`;
  const segments = key.slice(prefix.length).split('/');
  return segments.some((s) => s === '.' || s === '..')
    ? `must name an object under ${prefix} without . or .. segments: no store reads such a key as one object`
    : undefined;
};

/** One Distributed Map item: a planned batch of raw objects of one feed. */
export const flattenBatchInputSchema = z
  .object({
    feed: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
    batchId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$/),
    objects: z.array(
      z
        .object({
          key: z.string().min(1),
          size: z.number().int().min(0),
          /** Bytes `[start, end)` of an object too large for one batch: the lines that start there. */
          range: z.tuple([z.number().int().min(0), z.number().int().min(1)]).optional(),
          /** The plan's range length: the object's ranges are `[k × step, (k + 1) × step)`. */
          step: z.number().int().min(1).optional(),
          /** Why the plan found it too large to read within a batch: quarantined whole, unread. */
          tooLarge: z.string().min(1).max(1000).optional(),
        })
        .refine((o) => !o.range || (o.step && o.range[0] < o.range[1] && o.range[1] <= o.size), {
          message: 'a range needs its step, and lies inside the object',
        })
    ),
    /** The run's copy of the feed's schema registry (from plan-backlog); none: plan from scratch. */
    registryKey: z.string().min(1).optional(),
  })
  .superRefine((input, ctx) => {
    for (const [i, { key }] of input.objects.entries()) {
      const problem = rawKeyProblem(input.feed, key);
      if (problem) ctx.addIssue({ code: 'custom', path: ['objects', i, 'key'], message: problem });
    }
  });

export type FlattenBatchInput = z.input<typeof flattenBatchInputSchema>;

/** Which record fields a feed's silver folders are partitioned by (`partition` in its config). */
export interface PartitionFields {
  /** A dotted path to the record's date: ISO text, epoch seconds or milliseconds. */
  date?: string;
  /** A dotted path to the record's mode, a short text such as an event type. */
  mode?: string;
  /** A strptime format the date's text is read with instead of ISO 8601 (`%d/%m/%Y`). */
  dateFormat?: string;
}

export interface FlattenBatchOptions {
  /** Joins nested keys into column names: `user_address_city`. */
  separator: string;
  /** Objects nested deeper than this stay one JSON column, where the sample plans the batch. */
  maxDepth: number;
  /** `max_depth` when configured: caps the inferred typing of wide batches too. */
  depthCap?: number;
  /**
   * When a batch is typed from DuckDB's inference over every record (`writeInferred`): `wide`
   * (the sample shows a wide record), `always` or `never`.
   */
  infer?: FeedConfig['infer'];
  /** The record fields (dotted paths) the silver folders are partitioned by, if any. */
  partition: PartitionFields;
  /** Keep raw objects where they are instead of moving them to raw-processed/. */
  leaveInPlace: boolean;
  /** Arrays written as child tables, by their keys from the record's top (`explodedArrays`). */
  explode?: readonly (readonly string[])[];
  /** `false`: arrays of objects stay JSON text unless exploded (default: child tables). */
  childTables?: boolean;
  /** `always`: list every record's keys before writing, not only when one read cannot do. */
  keyPass?: FeedConfig['key_pass'];
  /**
   * The longest line a JSON Lines object may hold, up to `MAX_RECORD_BYTES` (the default): an
   * object with a longer one is quarantined whole, naming it.
   */
  maxRecordBytes?: number;
}

/** One planned item: an object, or a byte range of one, with its ledger key `id`. */
export type BatchItem = z.output<typeof flattenBatchInputSchema>['objects'][number] & {
  id: string;
};

/** One object of the batch on local disk, and how it will be read. */
export interface LocalObject {
  /** Its ledger and lineage key: the object's, or for a range `<key>#bytes=<start>-<end>`. */
  key: string;
  /** The object in the lake. */
  object: string;
  /** Where it was read from: its key, or its copy in raw-processed/ when a retry finds it moved. */
  source: string;
  size: number;
  index: number;
  info: RawObjectInfo;
  /** `fast`: DuckDB's JSON reader in one pass; `slow`: line by line (`loadRecords`). */
  path: 'fast' | 'slow' | 'none';
  /** The file the fast reader takes: the plain file, or its copy with rejected lines masked. */
  read: string;
  /** Lines of `read` masked as `{}` ({@link maskLines}), which the batch leaves out. */
  masked: number[];
  records: number;
  rejected: number;
  error?: string;
}

/** A batch whose objects are on local disk, and what writing and committing it needs. */
export interface StagedBatch {
  feed: string;
  batchId: string;
  items: readonly BatchItem[];
  store: ObjectStore;
  engine: DuckDbEngine;
  ledger: Ledger;
  now: () => Date;
  options: FlattenBatchOptions;
  /** The run's copy of the feed's registry: columns the batch keeps as they are. */
  registry: readonly FlatColumn[];
  ws: Workspace;
  /** The objects this batch claimed, in plan order: output names and rows depend on it. */
  objects: LocalObject[];
  /** Items an attempt this one retries already finished (their objects may have moved). */
  finished: ReadonlySet<string>;
  /** Dead batches that had committed items of this one, which it finished on their behalf. */
  adopted: readonly string[];
  /** The sampled lines of the batch's JSON Lines files, as one JSON Lines file. */
  sample: string;
  /** Where DuckDB writes Parquet: the records' under it, child table `i`'s under `<out>-<i>`. */
  out: string;
}

/** What a batch wrote: its columns, and the child tables its exploded arrays went to. */
export interface Written {
  columns: FlatColumn[];
  children: { table: ChildTable; elements: number }[];
}

/** The Parquet parts one batch wrote, per dataset: the feed's and its child tables'. */
export interface BatchManifest {
  feed: string;
  batchId: string;
  /** The hive keys of the folders its parts are in, in path order (none: one folder). */
  partitionKeys?: string[];
  outputs: string[];
  children: { dataset: string; outputs: string[] }[];
}

/** Non-null scalar leaves of the input, by where they landed. */
export interface LeafCounts {
  /** In the feed's own typed columns: scalar columns, variant columns, LIST and MAP elements. */
  typed: number;
  /** In child tables' typed columns. */
  child: number;
  /** Inside JSON text columns, the feed's and its child tables'. */
  json: number;
  /** Inside `_variant`, the feed's and its child tables': values that fit no column. */
  variant: number;
}

/** A record shape: the records whose top-level keys are these, and how wide they are. */
export interface RecordShape {
  /** Its top-level keys, sorted: the first dozen. */
  keys: string[];
  /** How many top-level keys it has. */
  keyCount: number;
  /** Distinct leaf paths its sampled records hold (an array's elements as one path). */
  leafPaths: number;
  /** The most non-null leaves one sampled record of it holds. */
  leaves: number;
  /** Its records among the sampled lines. */
  sampled: number;
  /** The ledger key of an object holding one. */
  example: string;
}

/** How typed a batch's data landed, counted at commit from what it wrote and sampled. */
export interface BatchTyping {
  leaves: LeafCounts;
  /** Set when the leaves in JSON text or `_variant` are partly extrapolated from a sample. */
  estimated?: boolean;
  /** Its widest record shapes, widest first (a few). */
  widest: RecordShape[];
}

export interface FlattenBatchResult {
  feed: string;
  batchId: string;
  /** Objects this batch processed, and those another batch already owns or finished. */
  objects: number;
  skipped: number;
  /** recordsRead = rowsWritten + recordsQuarantined, checked before anything is marked done. */
  recordsRead: number;
  rowsWritten: number;
  recordsQuarantined: number;
  /** The Parquet parts written, the child tables' included. */
  parts: number;
  /**
   * The {@link BatchManifest} naming every part: a state result carries counts and keys, never
   * lists that grow with the data (Step Functions fails a state over 256 KiB, uncatchably).
   */
  manifestKey: string;
  schemaKey: string;
  /**
   * Batches that committed but died before marking all their objects SUCCEEDED, and whose
   * objects this batch found and finished: their results (in their intents) count in this run.
   */
  adopted: string[];
  /** The child tables exploded arrays went to, each with its own rows and schema. */
  children: { dataset: string; rowsWritten: number; schemaKey: string }[];
  /**
   * Whether the batch listed its JSON Lines records' keys before it wrote them (the keys of a
   * file that is one JSON array always are): its sample missed a key or a type, a file went
   * line by line, or the feed asks for it. A feed where most batches do reads its data twice.
   */
  keyPass: boolean;
  /** Where its leaves landed and its widest shapes; none from a batch before it was counted. */
  typing?: BatchTyping;
}
