import { relative, sep } from 'node:path';
import { quoteLiteral } from '../config/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import { eachLimited } from '../lake/index.js';
import { writeIntent } from './batchIntent.js';
import { CLAIM_LEASE_MS, IO_CONCURRENCY } from './constants.js';
import { FlattenLayout } from './flattenLayout.js';
import { rangeKey, rangesOf } from './lineRange.js';
import { partitionKeys } from './partitionColumns.js';
import type { BatchManifest, FlattenBatchResult, StagedBatch, Written } from './types.js';
import { batchTyping } from './typing.js';

/**
 * The Parquet files DuckDB wrote under each of `dirs` (the feed's `silver`, a child table's
 * `silver-<n>`), their keys under each dataset's silver prefix, in one listing of them all: a
 * listing per table cost a batch of 41 child tables some 40–70 ms.
 */
const partsOf = async (batch: StagedBatch, dirs: readonly { dir: string; dataset: string }[]) => {
  const parts = await batch.engine
    .all(
      `select file_name as file, num_rows as n from parquet_file_metadata(${quoteLiteral(`${batch.out}*/**/*.parquet`)}) order by 1`
    )
    // No file at all: a batch with no rows (a real failure shows in the count check).
    .catch(() => []);
  return dirs.map(({ dir, dataset }) => {
    const own = parts.filter((part) => String(part.file).startsWith(`${dir}${sep}`));
    const files = own.map((part) => ({
      file: String(part.file),
      key: `${FlattenLayout.silverPrefix(dataset)}${relative(dir, String(part.file)).split('\\').join('/')}`,
    }));
    return {
      files,
      outputs: files.map((file) => file.key),
      rows: own.reduce((total, part) => total + Number(part.n), 0),
    };
  });
};

/** A raw object to move to raw-processed/, and whether an attempt this one retries may have. */
interface Move {
  object: string;
  size: number;
  retry: boolean;
}

/**
 * Commits a written batch. First it checks what it wrote on local disk (records read equal
 * rows written plus records quarantined, every exploded element a child row), counts where its
 * leaves landed from the files' footers ({@link batchTyping}) and records its intent: every key it is about to write, with its counts and result ({@link writeIntent}).
 * Then it uploads its Parquet (and its child tables'), its quarantine and its schema fragments,
 * writes its manifest, which commits it, and only then marks its items SUCCEEDED and moves raw
 * objects to raw-processed/ (an object in ranges: once all its ranges are done). A batch that
 * dies before its manifest leaves only keys its intent names, for a taker to remove; one that
 * dies after it is finished by a taker instead of processed again.
 *
 * @param batch - the staged batch
 * @param written - its columns and child tables
 * @param keyPass - whether it listed every record's keys before writing
 */
export const commitBatch = async (
  batch: StagedBatch,
  written: Written,
  keyPass: boolean
): Promise<FlattenBatchResult> => {
  const { engine, store, ledger, feed, batchId, objects, now } = batch;
  const parts = await partsOf(batch, [
    { dir: batch.out, dataset: feed },
    ...written.children.map(({ table }, i) => ({
      dir: `${batch.out}-${i}`,
      dataset: table.dataset,
    })),
  ]);
  const feedParts = parts[0] as (typeof parts)[number];
  const childParts = parts.slice(1);
  const rowsWritten = feedParts.rows;
  const children: FlattenBatchResult['children'] = [];
  for (const [i, { table: child, elements }] of written.children.entries()) {
    const own = childParts[i] as (typeof parts)[number];
    if (own.rows !== elements) {
      throw new QualityFailedError(
        `flatten-batch ${batchId}: ${child.path} holds ${elements} elements but ${child.dataset} got ${own.rows} rows`
      );
    }
    children.push({
      dataset: child.dataset,
      rowsWritten: own.rows,
      schemaKey: FlattenLayout.schemaFragment(child.dataset, batchId),
    });
  }

  const rejectedLines = await engine.scalarNumber('select count(*) from slow_rejected');
  const unreadable = objects.filter((object) => object.error);
  const records = objects.reduce((total, object) => total + (object.error ? 0 : object.records), 0);
  const recordsQuarantined = rejectedLines + unreadable.length;
  const recordsRead = records + recordsQuarantined;
  if (rowsWritten !== records) {
    throw new QualityFailedError(
      `flatten-batch ${batchId}: read ${recordsRead} records, wrote ${rowsWritten} rows and quarantined ${recordsQuarantined}`
    );
  }
  const typing = await batchTyping(engine, objects, [
    { files: feedParts.files.map(({ file }) => file), columns: written.columns },
    ...childParts.map((parts, i) => ({
      files: parts.files.map(({ file }) => file),
      columns: written.children[i]?.table.columns ?? [],
    })),
  ]);
  const schemaKey = FlattenLayout.schemaFragment(feed, batchId);
  const quarantined = unreadable.map((file) => ({
    file,
    key: FlattenLayout.quarantineFile(feed, batchId, file.key),
  }));
  const manifestKey = FlattenLayout.batchManifest(feed, batchId);
  const result: FlattenBatchResult = {
    feed,
    batchId,
    objects: objects.length,
    skipped: batch.items.length - objects.length,
    recordsRead,
    rowsWritten,
    recordsQuarantined,
    parts: feedParts.files.length + childParts.reduce((sum, parts) => sum + parts.files.length, 0),
    manifestKey,
    schemaKey,
    children,
    adopted: [...batch.adopted],
    keyPass,
    typing,
  };
  const counts = (object: (typeof objects)[number]) => ({
    rowsWritten: object.error ? 0 : object.records,
    rowsQuarantined: object.error ? 1 : object.rejected,
  });
  await writeIntent(store, {
    feed,
    batchId,
    keys: [
      ...feedParts.outputs,
      ...childParts.flatMap((parts) => parts.outputs),
      ...children.map((child) => child.schemaKey),
      ...(rejectedLines > 0 ? [FlattenLayout.quarantineRecords(feed, batchId)] : []),
      ...quarantined.flatMap(({ key }) => [key, `${key}.error.json`]),
      schemaKey,
      manifestKey,
    ],
    items: objects.map((object) => ({ id: object.key, ...counts(object) })),
    result,
  });

  if (rejectedLines > 0) {
    await engine.run(
      `copy (select source_key as file, line_no as line, reason as error, text from slow_rejected order by 1, 2) to ${quoteLiteral(batch.ws.path('rejected.jsonl'))} (format json)`
    );
  }
  // Everything the manifest commits goes up at once, in one pool of requests: the Parquet of
  // the feed and its child tables, schema fragments, quarantine. Their order does not matter,
  // only that all of them are there before the manifest is.
  const uploads: (() => Promise<void>)[] = [
    ...[...feedParts.files, ...childParts.flatMap((parts) => parts.files)].map(
      ({ file, key }) =>
        () =>
          store.upload(key, file, 'application/vnd.apache.parquet')
    ),
    ...written.children.map(
      (child) => () =>
        store.put(
          FlattenLayout.schemaFragment(child.table.dataset, batchId),
          JSON.stringify(
            { feed: child.table.dataset, batchId, columns: child.table.columns },
            null,
            2
          ),
          'application/json'
        )
    ),
    ...(rejectedLines > 0
      ? [
          () =>
            store.upload(
              FlattenLayout.quarantineRecords(feed, batchId),
              batch.ws.path('rejected.jsonl'),
              'application/x-ndjson'
            ),
        ]
      : []),
    ...quarantined.flatMap(({ file, key }) => [
      () => store.copy(file.source, key, file.size),
      () =>
        store.put(
          `${key}.error.json`,
          JSON.stringify({ file: file.key, error: file.error, batchId }, null, 2),
          'application/json'
        ),
    ]),
    () =>
      store.put(
        schemaKey,
        JSON.stringify({ feed, batchId, columns: written.columns }, null, 2),
        'application/json'
      ),
  ];
  await eachLimited(uploads, IO_CONCURRENCY, (upload) => upload());
  const manifest: BatchManifest = {
    feed,
    batchId,
    partitionKeys: partitionKeys(batch.options.partition),
    outputs: feedParts.outputs,
    children: children.map(({ dataset }, i) => ({
      dataset,
      outputs: childParts[i]?.outputs ?? [],
    })),
  };
  // The commit: from here on the batch's output is whole, and a taker finishes, not redoes, it.
  await store.put(manifestKey, JSON.stringify(manifest), 'application/json');

  // An object leaves raw/ once all of it is done: a whole one with its batch, copied to
  // raw-processed/ as soon as it is marked (never before: a taker adopting it reads raw/), while
  // the others are marked; one planned in ranges with the batch that finds them all SUCCEEDED,
  // which then marks the object itself.
  const moving = !batch.options.leaveInPlace;
  const moveToProcessed = ({ object, size, retry }: Move) =>
    store.copy(object, FlattenLayout.processed(object), size).catch((error: unknown) => {
      // An object no longer in raw/ was moved by the attempt this one retries.
      if (!(retry && error instanceof BadInputError)) throw error;
    });
  const whole: Move[] = [];
  await eachLimited(objects, IO_CONCURRENCY, async (object) => {
    await ledger.succeed(object.key, batchId, counts(object), now());
    if (object.key !== object.object) return;
    const move = {
      object: object.object,
      size: object.size,
      retry: batch.finished.has(object.key),
    };
    whole.push(move);
    if (moving) await moveToProcessed(move);
  });
  const split: Move[] = [];
  // Ranges the ledger gave to other batches count too: a range this plan skips may be the
  // last one an earlier run finished without moving its object.
  for (const { key, size, range, step } of batch.items) {
    if (!range || !step) continue;
    const siblings = rangesOf(size, step).map((r) => rangeKey(key, r));
    const states = await ledger.getMany([...siblings, key]);
    if (!siblings.every((sibling) => states.get(sibling)?.status === 'SUCCEEDED')) continue;
    const retry = states.get(key)?.batchId === batchId;
    // Two ranges' batches can finish together: the ledger lets one of them move the object.
    if ((await ledger.claim(key, batchId, now(), CLAIM_LEASE_MS)).granted) {
      split.push({ object: key, size, retry });
    }
  }
  if (moving) {
    await eachLimited(split, IO_CONCURRENCY, moveToProcessed);
    await store.delete([...whole, ...split].map(({ object }) => object));
  }
  await eachLimited(split, IO_CONCURRENCY, ({ object }) =>
    ledger.succeed(object, batchId, { rowsWritten: 0, rowsQuarantined: 0 }, now())
  );
  return result;
};
