import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { z } from 'zod';
import { parseOrThrow } from '../config/index.js';
import { Workspace } from '../engine/index.js';
import { BadInputError } from '../errors/index.js';
import {
  FlattenLayout,
  holdsWideRecords,
  type PartitionFields,
  rawKeyProblem,
  WIDE_LEAVES,
} from '../flatten/index.js';
import { assertRunId } from '../lake/index.js';
import { isClaimable, type Ledger, type ObjectInfo, type ObjectStore } from '../ports/index.js';
import { binPack } from './binPack.js';
import { HEAD_OBJECTS, headRecords } from './headRecords.js';
import { INVENTORY_PREFIX, inventoryObjects } from './inventoryObjects.js';
import { checkPartitionPaths } from './partitionPaths.js';
import { BATCH_BUDGET_SECONDS, FLATTEN_TIMEOUT_SECONDS, planningRate } from './throughput.js';
import { previousWeekPrefix } from './weekPrefix.js';

/** The batch size a backfill plans unless told otherwise (less when its rate says so). */
export const DEFAULT_TARGET_BATCH_BYTES = 256 * 1024 * 1024;
/** The objects a batch takes at most unless told otherwise. */
export const DEFAULT_MAX_FILES_PER_BATCH = 1_000;
/**
 * The batch size a wide feed plans at most. Its batches are typed from DuckDB's inference over
 * every record, whose memory grows with the batch: on flatten-wide's 2,943 columns, with
 * FlattenBatch's engine (2 threads, a 2,122 MB limit), batches of 256 MiB peaked at 2.4–2.6 GB
 * RSS, past half of the function's 3,538 MB, and batches of 128 MiB at 1.4–1.6 GB; the narrow
 * backlog's 256 MiB batches stay at 1.3 GB (`bench/flatten/batchMemory.ts`).
 */
export const WIDE_BATCH_BYTES = 128 * 1024 * 1024;
/** Registry columns from which a feed plans as wide: the leaf paths a wide sample holds. */
const WIDE_COLUMNS = WIDE_LEAVES;

export const planBacklogInputSchema = z.object({
  runId: z.string().min(1),
  feed: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { message: 'must be lower snake case' }),
  /** The prefix to plan, e.g. `raw/clickstream/all_historical_files/`; or give `week`. */
  prefix: z.string().min(1).optional(),
  /**
   * Plan the weekly drop of the ISO week before `scheduledTime` (an EventBridge Scheduler
   * `<aws.scheduler.scheduled-time>`): `raw/<feed>/<ISO year>/week<NN>/`.
   */
  week: z
    .object({ scheduledTime: z.iso.datetime({ offset: true }) })
    .strict()
    .optional(),
  /**
   * Take the objects from an S3 Inventory report delivered to the lake under `_inventory/`
   * instead of listing the prefix; only its objects under the prefix are planned.
   */
  inventory: z
    .object({ manifestKey: z.string().startsWith(INVENTORY_PREFIX) })
    .strict()
    .optional(),
  targetBatchBytes: z.number().int().min(1).default(DEFAULT_TARGET_BATCH_BYTES),
  maxFilesPerBatch: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_FILES_PER_BATCH),
});

export type PlanBacklogInput = z.input<typeof planBacklogInputSchema>;

export interface PlanBacklogResult {
  feed: string;
  /** The prefix planned: the one given, or the week's. */
  prefix: string;
  /** The JSONL manifest the Distributed Map's ItemReader reads: one planned batch per line. */
  manifestKey: string;
  objects: number;
  bytes: number;
  batches: number;
  /** Objects the ledger already marks SUCCEEDED. */
  skipped: number;
  /**
   * Objects planned again: FAILED, or claimed by a batch whose lease lapsed (it died without
   * settling them). Their batch quarantines one that has used up its attempts.
   */
  retried: number;
  /** Objects left out because a live batch holds them: another run is working on them now. */
  held: number;
  /**
   * The batch size planned: the requested target, or less when the feed's measured rate could
   * not flatten that much within half of FlattenBatch's timeout, or when the feed is wide
   * ({@link WIDE_BATCH_BYTES}): its registry holds a wide record's columns, or the run's first
   * records are wide (a feed's first run has no registry).
   */
  batchBytes: number;
  /** Objects that cannot be cut into ranges and would outlast a batch: planned for quarantine. */
  tooLarge: number;
  /**
   * Listed objects no batch may take (a `.` or `..` segment in the key): left out of the plan,
   * which would otherwise fail every attempt of their batch and strand its other objects.
   */
  refused: number;
  /** The JSON lines `{key, reason}` of the refused objects, when there are any. */
  refusedKey?: string;
  /**
   * The feed's schema registry as this run planned against it: every batch of the run, a redriven
   * one too, flattens against this copy, so a redrive writes what the first attempt would have.
   */
  registryKey: string;
}

export interface PlanBacklogDeps {
  store: ObjectStore;
  ledger: Ledger;
  /** The fields the feed partitions by, checked against the run's first records. */
  partition?: PartitionFields;
}

/**
 * A planned batch's JSON line is a map child's input (with the feed and the registry key):
 * 48 KiB keeps it, and so every state of a backfill, well under Step Functions' 256 KiB.
 */
export const MAX_BATCH_ITEM_BYTES = 48 * 1024;

/** Ledger lookups go in chunks: one BatchGetItem reads 100 keys. */
const LOOKUP_CHUNK = 100;

/** Where a backfill run's plan lives. */
export const planKey = (feed: string, runId: string) => `_backfill/${feed}/${runId}/plan.jsonl`;
/** Where a backfill run keeps its copy of the feed's schema registry. */
export const registryKey = (feed: string, runId: string) =>
  `_backfill/${feed}/${runId}/schema.json`;
/** Where a backfill run names the listed objects it could not plan. */
export const refusedKey = (feed: string, runId: string) =>
  `_backfill/${feed}/${runId}/refused.jsonl`;

/**
 * Whether a feed's schema registry holds as many columns as a wide record's leaf paths. One
 * that is not valid JSON fails the plan below.
 */
const registryIsWide = (registry: Uint8Array | undefined): boolean => {
  if (!registry) return false;
  try {
    const { columns } = JSON.parse(new TextDecoder().decode(registry)) as { columns?: unknown };
    return Array.isArray(columns) && columns.length >= WIDE_COLUMNS;
  } catch {
    return false;
  }
};

/** The prefix an input names, directly or as a week, checked to lie inside the feed. */
const prefixOf = (input: z.output<typeof planBacklogInputSchema>): string => {
  const { feed, prefix, week } = input;
  const resolved = week ? previousWeekPrefix(feed, new Date(week.scheduledTime)) : prefix;
  if (resolved === undefined || (prefix !== undefined && week !== undefined)) {
    throw new BadInputError('plan-backlog: give either prefix or week');
  }
  if (!resolved.startsWith(`raw/${feed}/`)) {
    throw new BadInputError(`plan-backlog: prefix ${resolved} is not under raw/${feed}/`);
  }
  return resolved;
};

/**
 * Plans a backfill: lists the prefix page by page (or streams an S3 Inventory report's rows
 * under it), drops objects the ledger already marks SUCCEEDED or a live batch holds, plans
 * FAILED ones and those whose batch's lease lapsed again, bin-packs them into batches sized so
 * each ends within half FlattenBatch's timeout at the feed's measured rate ({@link planningRate})
 * and, for a wide feed, within half its memory ({@link WIDE_BATCH_BYTES}), and streams them as
 * JSON lines to a local file, then uploads it as the manifest. Before the first batch it reads
 * the head of the first objects (a MiB of each of three, {@link headRecords}): their records
 * tell a wide feed on its first run, before any registry, and check the partition paths.
 * Memory holds one listing chunk and one open batch, whatever the number of objects.
 *
 * @param raw - the execution input
 * @param deps - lake and ledger
 */
export const runPlanBacklog = async (
  raw: PlanBacklogInput,
  deps: PlanBacklogDeps
): Promise<PlanBacklogResult> => {
  const input = parseOrThrow(planBacklogInputSchema, raw, 'plan-backlog input');
  const runId = assertRunId(input.runId);
  const prefix = prefixOf(input);
  let skipped = 0;
  let retried = 0;
  let held = 0;
  let objects = 0;
  let bytes = 0;
  let refused = 0;
  async function* pending(
    listed: AsyncIterable<ObjectInfo>,
    refuse: (line: string) => Promise<void>
  ): AsyncIterable<ObjectInfo> {
    let chunk: ObjectInfo[] = [];
    const flush = async function* () {
      const entries = await deps.ledger.getMany(chunk.map((object) => object.key));
      const now = new Date();
      for (const object of chunk) {
        const entry = entries.get(object.key);
        if (entry?.status === 'SUCCEEDED') skipped++;
        else if (!isClaimable(entry, now)) held++;
        else {
          if (entry?.status === 'FAILED' || entry?.status === 'PROCESSING') retried++;
          objects++;
          bytes += object.size;
          yield object;
        }
      }
      chunk = [];
    };
    for await (const object of listed) {
      if (object.key.endsWith('/')) continue;
      const problem = rawKeyProblem(input.feed, object.key);
      if (problem) {
        refused++;
        await refuse(`${JSON.stringify({ key: object.key, reason: problem })}\n`);
        continue;
      }
      chunk.push(object);
      if (chunk.length === LOOKUP_CHUNK) yield* flush();
    }
    yield* flush();
  }

  const rate = await planningRate(deps.store, input.feed);
  const budgetBytes = Math.floor(BATCH_BUDGET_SECONDS * rate.bytesPerSecond);
  const current = await deps.store.get(FlattenLayout.schema(input.feed));
  let tooLarge = 0;
  const mib = (bytes: number) => String(Number((bytes / 1024 ** 2).toPrecision(3)));
  /** Why an object that cannot be cut into ranges would outlast its batch, if it would. */
  const overBudget = ({ size }: { size: number }) => {
    if (size <= budgetBytes) return undefined;
    tooLarge++;
    return `too large for one batch: ${mib(size)} MiB at ${mib(rate.bytesPerSecond)} MiB/s (${rate.measured ? "the feed's measured rate" : 'the rate assumed for a feed not yet measured'}) takes about ${Math.round(size / rate.bytesPerSecond)} s, over the ${BATCH_BUDGET_SECONDS} s a batch may take (half FlattenBatch's ${FLATTEN_TIMEOUT_SECONDS} s); gzip and JSON arrays cannot be cut, so deliver it as JSON Lines or smaller files`;
  };
  return Workspace.use('plan-backlog', async (ws) => {
    const local = ws.path('plan.jsonl');
    const out = createWriteStream(local);
    const refusedLocal = ws.path('refused.jsonl');
    const refusedOut = createWriteStream(refusedLocal);
    const refuse = async (line: string) => {
      if (!refusedOut.write(line)) await once(refusedOut, 'drain');
    };
    const listed = input.inventory
      ? inventoryObjects(deps.store, input.inventory.manifestKey, prefix, ws)
      : deps.store.list(prefix);
    const planned = pending(listed, refuse)[Symbol.asyncIterator]();
    const first: ObjectInfo[] = [];
    while (first.length < HEAD_OBJECTS) {
      const next = await planned.next();
      if (next.done) break;
      first.push(next.value);
    }
    // The run's first records say what the registry cannot yet on a feed's first run: whether
    // its batches will be wide, and whether its partition paths are there.
    const head = await headRecords(deps.store, first, ws);
    if (deps.partition) checkPartitionPaths(head, first, deps.partition);
    const batchBytes = Math.min(
      input.targetBatchBytes,
      budgetBytes,
      registryIsWide(current) || holdsWideRecords(head)
        ? WIDE_BATCH_BYTES
        : Number.POSITIVE_INFINITY
    );
    async function* all() {
      yield* first;
      for (let next = await planned.next(); !next.done; next = await planned.next()) {
        yield next.value;
      }
    }
    let batches = 0;
    for await (const batch of binPack(all(), {
      targetBytes: batchBytes,
      maxFiles: input.maxFilesPerBatch,
      maxItemBytes: MAX_BATCH_ITEM_BYTES,
      batchIdPrefix: `${runId}-${input.feed}`,
      // A JSON Lines object larger than a batch is read in ranges, one batch each: in parallel,
      // and within a function's 15 minutes and 10 GB of /tmp whatever the object's size.
      splitOversized: true,
      tooLarge: overBudget,
    })) {
      batches++;
      if (!out.write(`${JSON.stringify(batch)}\n`)) await once(out, 'drain');
    }
    for (const stream of [out, refusedOut]) {
      stream.end();
      await once(stream, 'finish');
    }
    const manifestKey = planKey(input.feed, runId);
    await deps.store.upload(manifestKey, local, 'application/x-ndjson');
    const refusals = refused > 0 ? refusedKey(input.feed, runId) : undefined;
    if (refusals) await deps.store.upload(refusals, refusedLocal, 'application/x-ndjson');
    const registry = registryKey(input.feed, runId);
    // A replanned run keeps its first copy: batches that already ran used that one.
    if (!(await deps.store.get(registry))) {
      if (current) {
        try {
          JSON.parse(new TextDecoder().decode(current));
        } catch (error) {
          // Every batch would fail on it: say so once, here, before the map starts.
          throw new BadInputError(
            `plan-backlog: the schema registry ${FlattenLayout.schema(input.feed)} is not valid JSON (${(error as Error).message}); restore it from its S3 version history`
          );
        }
      }
      await deps.store.put(
        registry,
        current ?? JSON.stringify({ columns: [] }),
        'application/json'
      );
    }
    return {
      feed: input.feed,
      prefix,
      manifestKey,
      objects,
      bytes,
      batches,
      skipped,
      retried,
      held,
      batchBytes,
      tooLarge,
      refused,
      ...(refusals ? { refusedKey: refusals } : {}),
      registryKey: registry,
    };
  });
};
