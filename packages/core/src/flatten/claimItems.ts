import { TerminalError } from '../errors/index.js';
import { isLapsed, type Ledger, type LedgerEntry, type ObjectStore } from '../ports/index.js';
import { type BatchIntent, clearUncommitted, readCommitted } from './batchIntent.js';
import { CLAIM_LEASE_MS, MAX_ATTEMPTS } from './constants.js';
import { FlattenLayout } from './flattenLayout.js';
import type { BatchItem } from './types.js';

/**
 * What became of one item: another live batch holds it or it is done (`refused`); a dead batch
 * had committed it, and it is now marked done on that batch's behalf (`adopted`); this batch
 * finished it in an attempt this one retries (`finished`); or this batch holds it now
 * (`claimed`), `givenUp` when it has used up its attempts and goes to quarantine whole.
 */
export type ItemClaim =
  | { kind: 'refused' }
  | { kind: 'adopted'; from: string }
  | { kind: 'finished' }
  | { kind: 'claimed'; givenUp?: string };

export interface ClaimContext {
  feed: string;
  batchId: string;
  ledger: Ledger;
  store: ObjectStore;
  now: () => Date;
  leaveInPlace: boolean;
  /** The items' ledger entries, read once before claiming. */
  entries: ReadonlyMap<string, LedgerEntry>;
}

/**
 * Claims a batch's items one by one, taking over from batches that died. A batch that dies
 * leaves its claims to lapse; what it left depends on whether it committed (wrote its
 * manifest, which it does before it marks any object SUCCEEDED):
 * - committed: its output holds the item's rows, so the item is marked SUCCEEDED for that batch
 *   and its raw object moved, and the dead batch is reported (`adopted`) for Reconcile to count;
 * - not committed: the taker claims the item and first removes every key the dead batch's
 *   intent names, so none of its Parquet parts can duplicate the rows processed again.
 * An item whose earlier batches all failed or died {@link MAX_ATTEMPTS} times is claimed to be
 * quarantined with the last error instead of processed again.
 *
 * @param context - the batch, its ledger and lake, and the entries read before claiming
 */
export const itemClaimer = (context: ClaimContext) => {
  const { feed, batchId, ledger, store, now, entries } = context;
  const committed = new Map<string, Promise<BatchIntent | undefined>>();
  const cleared = new Map<string, Promise<'committed' | 'cleared'>>();
  const once = <T>(cache: Map<string, Promise<T>>, key: string, work: () => Promise<T>) => {
    const seen = cache.get(key) ?? work();
    cache.set(key, seen);
    return seen;
  };
  const adopt = async (item: BatchItem, from: string, intent: BatchIntent): Promise<ItemClaim> => {
    const counts = intent.items.find((done) => done.id === item.id);
    if (!counts) return { kind: 'refused' };
    try {
      await ledger.succeed(item.id, from, counts, now());
    } catch (error) {
      // Settled meanwhile by the batch itself or another taker: theirs to finish.
      if (error instanceof TerminalError) return { kind: 'refused' };
      throw error;
    }
    if (!context.leaveInPlace && item.key === item.id) {
      await store.copy(item.key, FlattenLayout.processed(item.key), item.size);
      await store.delete([item.key]);
    }
    return { kind: 'adopted', from };
  };

  return async (item: BatchItem): Promise<ItemClaim> => {
    const entry = entries.get(item.id);
    if (entry?.batchId === batchId && entry.status === 'SUCCEEDED') return { kind: 'finished' };
    const holder = entry?.status === 'PROCESSING' ? entry.batchId : undefined;
    if (holder && holder !== batchId) {
      const intent = await once(committed, holder, () => readCommitted(store, feed, holder));
      if (intent) return adopt(item, holder, intent);
      if (!isLapsed(entry as LedgerEntry, now())) return { kind: 'refused' };
    }
    const claim = await ledger.claim(item.id, batchId, now(), CLAIM_LEASE_MS);
    if (!claim.granted) return { kind: 'refused' };
    const { previous } = claim;
    if (previous?.status === 'PROCESSING' && previous.batchId && previous.batchId !== batchId) {
      const dead = previous.batchId;
      if ((await once(cleared, dead, () => clearUncommitted(store, feed, dead))) === 'committed') {
        // Committed after its lease lapsed: the lease was shorter than the batch ran.
        throw new TerminalError(
          `flatten-batch ${batchId}: batch ${dead} committed ${item.id} after its lease lapsed; the claim lease (${CLAIM_LEASE_MS} ms) must outlive FlattenBatch's timeout`
        );
      }
    }
    if (previous && previous.batchId !== batchId && previous.attempts >= MAX_ATTEMPTS) {
      const last = previous.error ?? 'its batch stopped without settling it (killed or timed out)';
      return {
        kind: 'claimed',
        givenUp: `given up after ${previous.attempts} attempts; the last: ${last}`,
      };
    }
    return { kind: 'claimed' };
  };
};
