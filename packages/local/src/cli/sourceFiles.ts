import { readdir, stat } from 'node:fs/promises';
import { basename, join, matchesGlob, relative, sep } from 'node:path';
import { BadInputError } from '@strata/core/errors';
import { rawKeyProblem } from '@strata/core/flatten';
import { eachLimited } from '@strata/core/lake';
import {
  BATCH_BUDGET_SECONDS,
  binPack,
  DEFAULT_MAX_FILES_PER_BATCH,
  DEFAULT_TARGET_BATCH_BYTES,
  MAX_BATCH_ITEM_BYTES,
  planningRate,
} from '@strata/core/plan-backlog';
import type { Ledger, ObjectStore } from '@strata/core/ports';

/** A feed name as the configuration and the state machines take it. */
const FEED_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Uploads in flight at once: local S3 is on this machine, so a few keep it busy. */
const UPLOADS = 8;

/** One file of a user's source, and the key it is backfilled from. */
export interface SourceFile {
  /** The file on disk, or the object's key in a source bucket. */
  path: string;
  /** Its path under the source, with `/` separators: its key under the feed's backlog prefix. */
  relative: string;
  size: number;
}

/** Which files of a source folder are taken: every one by default. */
export interface SourceFilter {
  /** Globs a file's relative path must match one of (`**\/*.json`, `2024/**`). */
  include?: readonly string[];
  /** Globs that leave a file out, even one an include matched. */
  exclude?: readonly string[];
}

/** Puts one source file into the lake at `key`. */
export type SendFile = (file: SourceFile, key: string) => Promise<void>;

/** Where a feed's backlog is uploaded to, and where the backfill plans it from. */
export const backlogPrefix = (feed: string) => `raw/${feed}/all_historical_files/`;

/**
 * Refuses a feed name the lake and the state machines cannot take, naming the rule.
 *
 * @param feed - the `--feed` value
 */
export const assertFeedName = (feed: string): string => {
  if (!FEED_NAME.test(feed)) {
    throw new BadInputError(
      `--feed: "${feed}" must be lower snake case (a letter, then letters, digits or _; at most 63)`
    );
  }
  return feed;
};

/**
 * The files of a source, a file or a folder read recursively, in path order, filtered by the
 * include and exclude globs. Hidden files and folders (`.DS_Store`, `.git/`) are left out; an
 * empty file is kept, and the backfill reports it.
 *
 * @param from - the `--from` path
 * @param filter - the `--include` / `--exclude` globs
 */
export const listSourceFiles = async (
  from: string,
  filter: SourceFilter = {}
): Promise<SourceFile[]> => {
  const found = await stat(from).catch(() => undefined);
  if (!found) throw new BadInputError(`--from: ${from} does not exist`);
  const candidates: SourceFile[] = found.isFile()
    ? [{ path: from, relative: basename(from), size: found.size }]
    : [];
  if (found.isDirectory()) {
    for (const entry of await readdir(from, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const rel = relative(from, path).split(sep).join('/');
      candidates.push({ path, relative: rel, size: (await stat(path)).size });
    }
  }
  return selectFiles(candidates, filter);
};

/**
 * A source's files that the globs take, in path order, without hidden files or folders: the
 * one rule for a folder on disk and a bucket's objects.
 *
 * @param candidates - every file of the source
 * @param filter - the `--include` / `--exclude` globs
 */
export const selectFiles = (
  candidates: readonly SourceFile[],
  filter: SourceFilter = {}
): SourceFile[] => {
  const { include = [], exclude = [] } = filter;
  return candidates
    .filter(
      (file) =>
        !file.relative.split('/').some((segment) => segment.startsWith('.')) &&
        (include.length === 0 || include.some((glob) => matchesGlob(file.relative, glob))) &&
        !exclude.some((glob) => matchesGlob(file.relative, glob))
    )
    .sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
};

/** What uploading a source did. */
export interface UploadedSource {
  /** Files uploaded now. */
  uploaded: number;
  bytes: number;
  /** Files already in the lake with their size (an earlier, interrupted upload): not sent again. */
  present: number;
  /** Files the ledger already marks SUCCEEDED: backfilled before, not uploaded again. */
  done: number;
}

/**
 * Uploads a source's files under the feed's backlog prefix, keeping their relative paths, so a
 * backfill plans them as it plans any backlog. A rerun over the same source sends nothing twice:
 * files the ledger marks backfilled, and files already uploaded with their size, are skipped.
 *
 * @param deps - the lake and the ledger
 * @param feed - the feed to backfill into
 * @param files - what {@link listSourceFiles} (or a bucket's listing) found
 * @param send - how a file reaches the lake: uploaded from disk by default
 */
export const uploadSourceFiles = async (
  deps: { store: ObjectStore; ledger: Ledger },
  feed: string,
  files: readonly SourceFile[],
  send: SendFile = (file, key) => deps.store.upload(key, file.path)
): Promise<UploadedSource> => {
  const prefix = backlogPrefix(feed);
  const keyed = files.map((file) => ({ ...file, key: `${prefix}${file.relative}` }));
  for (const file of keyed) {
    const problem = rawKeyProblem(feed, file.key);
    if (problem) throw new BadInputError(`--from: ${file.path}: ${problem}`);
  }
  const sizes = new Map<string, number>();
  for await (const object of deps.store.list(prefix)) sizes.set(object.key, object.size);
  const entries = await deps.ledger.getMany(keyed.map((file) => file.key));
  const outcome: UploadedSource = { uploaded: 0, bytes: 0, present: 0, done: 0 };
  const pending = keyed.filter((file) => {
    if (entries.get(file.key)?.status === 'SUCCEEDED') outcome.done++;
    else if (sizes.get(file.key) === file.size) outcome.present++;
    else return true;
    return false;
  });
  await eachLimited(pending, UPLOADS, async (file) => {
    await send(file, file.key);
    outcome.uploaded++;
    outcome.bytes += file.size;
  });
  return outcome;
};

/** What a backfill of a source would do, as `--dry-run` prints it. */
export interface SourcePlan {
  objects: number;
  bytes: number;
  batches: number;
  /** The size a batch is planned to, and the rate it is sized by. */
  batchBytes: number;
  bytesPerSecond: number;
  /** Whether the rate is the feed's measured one, or the one assumed for a feed never run. */
  measured: boolean;
}

/**
 * How the backfill would plan a source's files: PlanBacklog's own packing, its batch size and the
 * feed's measured rate (or the assumed one), without uploading anything.
 *
 * @param store - the lake, where the feed's measured rate is kept
 * @param feed - the feed
 * @param files - what {@link listSourceFiles} found
 */
export const planSourceFiles = async (
  store: ObjectStore,
  feed: string,
  files: readonly SourceFile[]
): Promise<SourcePlan> => {
  const rate = await planningRate(store, feed);
  const batchBytes = Math.min(
    DEFAULT_TARGET_BATCH_BYTES,
    Math.floor(BATCH_BUDGET_SECONDS * rate.bytesPerSecond)
  );
  const prefix = backlogPrefix(feed);
  async function* listed() {
    for (const file of files) yield { key: `${prefix}${file.relative}`, size: file.size };
  }
  let batches = 0;
  for await (const _ of binPack(listed(), {
    targetBytes: batchBytes,
    maxFiles: DEFAULT_MAX_FILES_PER_BATCH,
    maxItemBytes: MAX_BATCH_ITEM_BYTES,
    batchIdPrefix: 'dry-run',
    splitOversized: true,
  })) {
    batches++;
  }
  return {
    objects: files.length,
    bytes: files.reduce((total, file) => total + file.size, 0),
    batches,
    batchBytes,
    bytesPerSecond: rate.bytesPerSecond,
    measured: rate.measured,
  };
};
