import type { ObjectStore } from '../ports/index.js';
import { FlattenLayout } from './flattenLayout.js';
import type { FlattenBatchResult } from './types.js';

/**
 * What a batch is about to write and commit, recorded before its first upload: every key, and
 * the counts and result it will report, so a batch that takes over from it after it died can
 * remove its keys (not committed) or finish it (committed).
 */
export interface BatchIntent {
  feed: string;
  batchId: string;
  keys: string[];
  /** Each item's counts, as the ledger will hold them. */
  items: { id: string; rowsWritten: number; rowsQuarantined: number }[];
  result: FlattenBatchResult;
}

/**
 * Records every key a batch is about to write, before it uploads the first, so whoever finds
 * the batch dead before its commit can remove exactly what it left ({@link clearUncommitted}).
 *
 * @example
 * await writeIntent(store, { feed, batchId, keys: [...parts, quarantineKey] });
 *
 * @param store - the lake
 * @param intent - the batch and its keys
 */
export const writeIntent = (store: ObjectStore, intent: BatchIntent): Promise<void> =>
  store.put(
    FlattenLayout.batchIntent(intent.feed, intent.batchId),
    JSON.stringify(intent),
    'application/json'
  );

/**
 * The intent of a batch that committed (wrote its manifest), or nothing if it did not.
 *
 * @param store - the lake
 * @param feed - the batch's feed
 * @param batchId - the batch
 */
export const readCommitted = async (
  store: ObjectStore,
  feed: string,
  batchId: string
): Promise<BatchIntent | undefined> => {
  if (!(await store.get(FlattenLayout.batchManifest(feed, batchId)))) return undefined;
  const body = await store.get(FlattenLayout.batchIntent(feed, batchId));
  return body ? (JSON.parse(new TextDecoder().decode(body)) as BatchIntent) : undefined;
};

/**
 * Removes what a batch wrote if it did not commit: the keys of its intent, then the intent.
 * A batch commits by writing its manifest ({@link FlattenLayout.batchManifest}) before it marks
 * any object SUCCEEDED, so a committed batch's output is complete and is kept. Running it twice,
 * or for a batch that wrote nothing, is harmless.
 *
 * @example
 * if ((await clearUncommitted(store, feed, deadBatch)) === 'committed') finish(deadBatch);
 *
 * @param store - the lake
 * @param feed - the batch's feed
 * @param batchId - the batch, which must be dead: its leases lapsed, or it is the caller itself
 * @returns `committed` (nothing removed) or `cleared`
 */
export const clearUncommitted = async (
  store: ObjectStore,
  feed: string,
  batchId: string
): Promise<'committed' | 'cleared'> => {
  if (await store.get(FlattenLayout.batchManifest(feed, batchId))) return 'committed';
  const key = FlattenLayout.batchIntent(feed, batchId);
  const body = await store.get(key);
  if (body) {
    const intent = JSON.parse(new TextDecoder().decode(body)) as Pick<BatchIntent, 'keys'>;
    await store.delete(intent.keys);
    await store.delete([key]);
  }
  return 'cleared';
};

/**
 * A run's finished batches and the dead batches they finished (`adopted`), each once: a batch
 * that committed and died before its result reached the map counts in the run that found it.
 *
 * @example
 * const batches = await withAdopted(store, feed, resultWriterOutputs);
 *
 * @param store - the lake
 * @param feed - the run's feed
 * @param finished - the results of the run's batches
 */
export const withAdopted = async (
  store: ObjectStore,
  feed: string,
  finished: readonly FlattenBatchResult[]
): Promise<FlattenBatchResult[]> => {
  const counted = new Set(finished.map((batch) => batch.batchId));
  const adopted: FlattenBatchResult[] = [];
  for (const batchId of finished.flatMap((batch) => batch.adopted ?? [])) {
    if (counted.has(batchId)) continue;
    counted.add(batchId);
    const intent = await readCommitted(store, feed, batchId);
    if (intent) adopted.push(intent.result);
  }
  return [...finished, ...adopted];
};
