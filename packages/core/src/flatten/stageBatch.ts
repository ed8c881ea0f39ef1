import { rm, writeFile } from 'node:fs/promises';
import { quoteLiteral } from '../config/index.js';
import { eachLimited } from '../lake/index.js';
import type { LedgerEntry } from '../ports/index.js';
import type { ExplodedArray } from './childTables.js';
import { itemClaimer } from './claimItems.js';
import {
  IO_CONCURRENCY,
  MAX_INFLATED_BYTES,
  MAX_RECORD_BYTES,
  maximumObjectSize,
  SAMPLE_HEAD,
  SAMPLE_SPREAD,
} from './constants.js';
import type { FileGroup } from './discoverStructure.js';
import { FlattenLayout } from './flattenLayout.js';
import { downloadLineRange } from './lineRange.js';
import { inspectRawObject, maskLines, toLines, unreadable } from './rawObject.js';
import type { Rejection } from './strictJson.js';
import type { BatchItem, LocalObject, StagedBatch } from './types.js';

const NEWLINE = Buffer.from('\n');

/**
 * Claims the batch's items in the ledger ({@link itemClaimer}) and brings each claimed one onto
 * local disk, inflated and inspected ({@link inspectRawObject}), as soon as it is claimed. Items
 * another batch owns or finished are left out, and so are those a dead batch had committed,
 * which are finished on its behalf (`adopted`); the batch's own, finished by an attempt this one
 * retries, are staged again (from raw-processed/ if they moved), so the retry rewrites the same
 * files. An object given up after its attempts, or planned as too large for a batch, is not
 * read: it goes to quarantine whole, with the reason.
 *
 * @param batch - everything but what staging finds out
 */
export const stageBatch = async (
  batch: Omit<StagedBatch, 'objects' | 'finished' | 'adopted' | 'sample' | 'out'>
): Promise<StagedBatch> => {
  const { items, ledger, store, ws } = batch;
  const entries = await ledger.getMany(items.map((item) => item.id));
  const claim = itemClaimer({ ...batch, leaveInPlace: batch.options.leaveInPlace, entries });
  const finished = new Set<string>();
  const adopted = new Set<string>();
  const claimed = new Array<LocalObject | undefined>(items.length);
  // About a thousand records spread over the batch as planned (so a retry samples the same
  // lines), and each file's first few.
  const sample = {
    head: SAMPLE_HEAD,
    everyBytes: items.reduce((total, o) => total + o.size, 0) / SAMPLE_SPREAD,
    spread: SAMPLE_SPREAD,
  };
  await eachLimited(items, IO_CONCURRENCY, async (item, index) => {
    const local = ws.path(`object-${index}`);
    const download = (source: string) => {
      const { range, size } = item;
      return range
        ? downloadLineRange(store, { key: source, size, range }, local)
        : store.download(source, local);
    };
    // The download starts with the claim rather than after it: the two round trips overlap.
    // Reading an object this batch then does not get is harmless; its copy is removed.
    const fetched = speculates(item, entries.get(item.id), batch.batchId)
      ? download(item.key).then(
          () => undefined,
          (error: unknown) => ({ error })
        )
      : undefined;
    const discard = async () => {
      await fetched;
      await rm(local, { force: true });
    };
    const taken = await claim(item).catch(async (error: unknown) => {
      await discard();
      throw error;
    });
    if (taken.kind === 'refused') return discard();
    if (taken.kind === 'adopted') {
      adopted.add(taken.from);
      return discard();
    }
    if (taken.kind === 'finished') finished.add(item.id);
    const object = { key: item.id, object: item.key, size: item.size, index, masked: [] };
    const counts = { records: 0, rejected: 0 };
    const unread = taken.kind === 'claimed' ? (taken.givenUp ?? item.tooLarge) : undefined;
    if (unread) {
      await discard();
      // Not read (again): the object goes to quarantine whole, with why.
      const error = unread;
      claimed[index] = {
        ...object,
        ...counts,
        source: item.key,
        info: unreadable('', error),
        path: 'none',
        read: '',
        error,
      };
      return;
    }
    let source = item.key;
    const failed = fetched
      ? await fetched
      : await download(source).then(
          () => undefined,
          (error: unknown) => ({ error })
        );
    if (failed) {
      // An object no longer in raw/ was moved by the attempt this one retries.
      if (!finished.has(item.id)) throw failed.error;
      source = FlattenLayout.processed(item.key);
      await download(source);
    }
    const limits = {
      maxPlainBytes: MAX_INFLATED_BYTES,
      maxRecordBytes: Math.min(batch.options.maxRecordBytes ?? MAX_RECORD_BYTES, MAX_RECORD_BYTES),
      sample,
    };
    const plain = ws.path(`object-${index}.json`);
    let info = await inspectRawObject(local, { gzip: item.key.endsWith('.gz'), plain, ...limits });
    // An array, or objects written over many lines, is read as JSON Lines, so it takes the
    // paths those take: read as an array, a wide one fell to the per-column path (129 webhook
    // payloads, 2,909 columns: past 1.1 GiB); read line by line, 832 package.json files (1.1
    // MB) were sampled as nothing and ran out of 1.9 GiB in the sampled plan's 1,691 columns.
    const layout =
      info.layout === 'array' ? 'array' : info.suspect[0] === 1 ? 'objects' : undefined;
    if (layout) {
      const lines = ws.path(`object-${index}.jsonl`);
      if (await toLines(info.path, lines, layout)) {
        if (info.path !== local) await rm(info.path);
        info = await inspectRawObject(lines, { gzip: false, plain, ...limits });
      }
    }
    // /tmp holds the batch: once inflated, the gzip is no longer read (quarantine and the
    // move to raw-processed/ copy the object in S3).
    if (info.path !== local) await rm(local);
    // A file whose first line holds no whole object may be one document over many lines,
    // which only the line-by-line path tells from JSON Lines with a broken first line; an
    // array holding a pattern DuckDB reads less strictly has each element judged there.
    const fast =
      (info.layout === 'array' && info.unusual.length === 0) ||
      (info.layout === 'lines' && !info.innerBlankLines && info.suspect[0] !== 1);
    claimed[index] = {
      ...object,
      ...counts,
      source,
      info,
      path:
        info.layout === 'empty' || info.layout === 'unreadable' ? 'none' : fast ? 'fast' : 'slow',
      read: info.path,
      ...(info.error ? { error: info.error } : {}),
    };
  });
  const objects = claimed.filter((object) => object !== undefined);
  const sampled = ws.path('sample.jsonl');
  await writeFile(
    sampled,
    Buffer.concat(objects.flatMap((o) => o.info.sample.flatMap((line) => [line, NEWLINE])))
  );
  // Records of files that go line by line, and lines that hold no record, wherever found.
  await batch.engine.run(
    'create or replace temp table slow_records (source_key varchar, line_no bigint, record json); create or replace temp table slow_rejected (source_key varchar, line_no bigint, text varchar, reason varchar)'
  );
  return {
    ...batch,
    objects,
    finished,
    adopted: [...adopted].sort(),
    sample: sampled,
    out: ws.path('silver'),
  };
};

/**
 * Whether an item is worth downloading while it is being claimed: not one planned too large to
 * read, nor one the ledger already shows done or held by another batch (most of those are
 * refused; a lapsed one is downloaded once its claim is granted).
 */
const speculates = (item: BatchItem, entry: LedgerEntry | undefined, batchId: string) =>
  !item.tooLarge && (entry === undefined || entry.batchId === batchId || entry.status === 'FAILED');

/**
 * The batch's files DuckDB's reader takes in one pass, in one format: JSON Lines (with their
 * line count) or JSON arrays.
 */
export const fileGroup = (batch: StagedBatch, format: FileGroup['format']): FileGroup => {
  const members = batch.objects.filter(
    (o) => o.path === 'fast' && (o.info.layout === 'array') === (format === 'array')
  );
  return {
    format,
    paths: members.map((o) => o.read),
    // An array's element may span lines: its text bounds it.
    longestRecord: Math.max(
      0,
      ...members.map((o) =>
        o.info.layout === 'array' ? Math.min(o.info.bytes, MAX_RECORD_BYTES) : o.info.longestLine
      )
    ),
    ...(format === 'newline_delimited'
      ? { records: members.reduce((total, o) => total + o.info.lines, 0) }
      : {}),
  };
};

/** The batch's fast files, a group per format it has. */
export const fastGroups = (batch: StagedBatch): FileGroup[] =>
  (['newline_delimited', 'array'] as const)
    .map((format) => fileGroup(batch, format))
    .filter((group) => group.paths.length > 0);

/**
 * Copies a file with its lines that hold no record masked; `use` then reads the copy and
 * sends those lines to quarantine.
 *
 * @param reasonOf - why a line holds no record, or nothing if it does
 */
export const maskRejected = async (
  batch: StagedBatch,
  object: LocalObject,
  reasonOf: (line: number, bytes: Buffer) => Rejection | undefined
) => {
  const { engine, ws } = batch;
  const read = ws.path(`object-${object.index}.masked.json`);
  const rejected = await maskLines(object.info.path, read, reasonOf);
  return {
    rejected,
    use: async () => {
      Object.assign(object, { read, masked: rejected.map((r) => r.line) });
      object.rejected = rejected.length;
      const local = ws.path(`object-${object.index}.rejected.json`);
      const lines = rejected.map((r) => JSON.stringify(r));
      await writeFile(local, lines.join('\n'));
      await engine.run(
        `insert into slow_rejected select ${quoteLiteral(object.key)}, line, text, reason from read_json(${quoteLiteral(local)}, format = 'newline_delimited', columns = {line: 'BIGINT', text: 'VARCHAR', reason: 'VARCHAR'}, ${maximumObjectSize(Math.max(0, ...lines.map((line) => line.length)))})`
      );
    },
  };
};

/** Removes what a write attempt left, which the next one might not overwrite. */
export const clearOutputs = async (batch: StagedBatch, arrays: readonly ExplodedArray[]) => {
  for (const dir of [batch.out, ...arrays.map((_, i) => `${batch.out}-${i}`)]) {
    await rm(dir, { recursive: true, force: true });
  }
};
