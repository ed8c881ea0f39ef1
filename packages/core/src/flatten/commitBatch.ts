import { join, relative } from 'node:path';
import { quoteLiteral } from '../config/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import { eachLimited } from '../lake/index.js';
import { IO_CONCURRENCY } from './constants.js';
import { FlattenLayout } from './flattenLayout.js';
import { rangeKey, rangesOf } from './lineRange.js';
import type { BatchManifest, FlattenBatchResult, StagedBatch, Written } from './types.js';

/** Uploads the Parquet files DuckDB wrote under `dir` to the dataset's silver prefix. */
const publish = async (batch: StagedBatch, dir: string, dataset: string) => {
  const parts = await batch.engine
    .all(
      `select file_name as file, num_rows as n from parquet_file_metadata(${quoteLiteral(join(dir, '**', '*.parquet'))}) order by 1`
    )
    // No file at all: a batch with no rows (a real failure shows in the count check).
    .catch(() => []);
  const outputs = parts.map(
    (part) =>
      `${FlattenLayout.silverPrefix(dataset)}${relative(dir, String(part.file)).split('\\').join('/')}`
  );
  await eachLimited(parts, IO_CONCURRENCY, (part, i) =>
    batch.store.upload(outputs[i] as string, String(part.file), 'application/vnd.apache.parquet')
  );
  return { outputs, rows: parts.reduce((total, part) => total + Number(part.n), 0) };
};

/**
 * Commits a written batch: uploads its Parquet (and its child tables'), its quarantine, its
 * schema fragments and the manifest of its parts, checks that records read equal rows written plus records quarantined, and
 * only then marks its items SUCCEEDED and moves raw objects to raw-processed/ (an object in
 * ranges: once all its ranges are done).
 *
 * @param batch - the staged batch
 * @param written - its columns and child tables
 */
export const commitBatch = async (
  batch: StagedBatch,
  written: Written
): Promise<Omit<FlattenBatchResult, 'keyPass'>> => {
  const { engine, store, ledger, feed, batchId, objects, now } = batch;
  const { outputs, rows: rowsWritten } = await publish(batch, batch.out, feed);
  const children: FlattenBatchResult['children'] = [];
  const childOutputs: BatchManifest['children'] = [];
  for (const [i, { table: child, elements }] of written.children.entries()) {
    const published = await publish(batch, `${batch.out}-${i}`, child.dataset);
    if (published.rows !== elements) {
      throw new QualityFailedError(
        `flatten-batch ${batchId}: ${child.path} holds ${elements} elements but ${child.dataset} got ${published.rows} rows`
      );
    }
    const schemaKey = FlattenLayout.schemaFragment(child.dataset, batchId);
    await store.put(
      schemaKey,
      JSON.stringify({ feed: child.dataset, batchId, columns: child.columns }, null, 2),
      'application/json'
    );
    children.push({ dataset: child.dataset, rowsWritten: published.rows, schemaKey });
    childOutputs.push({ dataset: child.dataset, outputs: published.outputs });
  }

  const rejectedLines = await engine.scalarNumber('select count(*) from slow_rejected');
  if (rejectedLines > 0) {
    const local = batch.ws.path('rejected.jsonl');
    await engine.run(
      `copy (select source_key as file, line_no as line, reason as error, text from slow_rejected order by 1, 2) to ${quoteLiteral(local)} (format json)`
    );
    await store.upload(
      FlattenLayout.quarantineRecords(feed, batchId),
      local,
      'application/x-ndjson'
    );
  }
  const unreadable = objects.filter((object) => object.error);
  for (const file of unreadable) {
    const key = FlattenLayout.quarantineFile(feed, batchId, file.key);
    await store.copy(file.source, key, file.size);
    await store.put(
      `${key}.error.json`,
      JSON.stringify({ file: file.key, error: file.error, batchId }, null, 2),
      'application/json'
    );
  }

  const records = objects.reduce((total, object) => total + (object.error ? 0 : object.records), 0);
  const recordsQuarantined = rejectedLines + unreadable.length;
  const recordsRead = records + recordsQuarantined;
  if (rowsWritten !== records) {
    throw new QualityFailedError(
      `flatten-batch ${batchId}: read ${recordsRead} records, wrote ${rowsWritten} rows and quarantined ${recordsQuarantined}`
    );
  }
  const schemaKey = FlattenLayout.schemaFragment(feed, batchId);
  await store.put(
    schemaKey,
    JSON.stringify({ feed, batchId, columns: written.columns }, null, 2),
    'application/json'
  );
  const manifestKey = FlattenLayout.batchManifest(feed, batchId);
  const manifest: BatchManifest = { feed, batchId, outputs, children: childOutputs };
  await store.put(manifestKey, JSON.stringify(manifest), 'application/json');

  await eachLimited(objects, IO_CONCURRENCY, (object) =>
    ledger.succeed(
      object.key,
      batchId,
      {
        rowsWritten: object.error ? 0 : object.records,
        rowsQuarantined: object.error ? 1 : object.rejected,
      },
      now()
    )
  );
  // An object leaves raw/ once all of it is done: a whole one with its batch; one planned in
  // ranges with the batch that finds them all SUCCEEDED, which then marks the object itself.
  const whole = objects
    .filter((object) => object.key === object.object)
    .map(({ object, size, key }) => ({ object, size, retry: batch.finished.has(key) }));
  const split: typeof whole = [];
  // Ranges the ledger gave to other batches count too: a range this plan skips may be the
  // last one an earlier run finished without moving its object.
  for (const { key, size, range, step } of batch.items) {
    if (!range || !step) continue;
    const siblings = rangesOf(size, step).map((r) => rangeKey(key, r));
    const states = await ledger.getMany([...siblings, key]);
    if (!siblings.every((sibling) => states.get(sibling)?.status === 'SUCCEEDED')) continue;
    const retry = states.get(key)?.batchId === batchId;
    // Two ranges' batches can finish together: the ledger lets one of them move the object.
    if (await ledger.claim(key, batchId, now())) split.push({ object: key, size, retry });
  }
  const done = [...whole, ...split];
  if (!batch.options.leaveInPlace) {
    await eachLimited(done, IO_CONCURRENCY, ({ object, size, retry }) =>
      store.copy(object, FlattenLayout.processed(object), size).catch((error: unknown) => {
        // An object no longer in raw/ was moved by the attempt this one retries.
        if (!(retry && error instanceof BadInputError)) throw error;
      })
    );
    await store.delete(done.map(({ object }) => object));
  }
  await eachLimited(split, IO_CONCURRENCY, ({ object }) =>
    ledger.succeed(object, batchId, { rowsWritten: 0, rowsQuarantined: 0 }, now())
  );
  return {
    feed,
    batchId,
    objects: objects.length,
    skipped: batch.items.length - objects.length,
    recordsRead,
    rowsWritten,
    recordsQuarantined,
    parts: outputs.length + childOutputs.reduce((sum, child) => sum + child.outputs.length, 0),
    manifestKey,
    schemaKey,
    children,
  };
};
