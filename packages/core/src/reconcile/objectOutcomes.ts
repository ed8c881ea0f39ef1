import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Workspace } from '../engine/index.js';
import { rangeKey } from '../flatten/lineRange.js';
import type { PlannedBatch } from '../plan-backlog/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';

/** How the objects a run planned ended, by the ledger: counts, and the objects worth a look. */
export interface ObjectOutcomes {
  counts: {
    planned: number;
    succeeded: number;
    /** Planned again after an earlier batch failed or died on them (SUCCEEDED or not now). */
    retried: number;
    failed: number;
    /** Still PROCESSING: claimed by a batch that neither finished nor failed. */
    stranded: number;
  };
  retried: { key: string; attempts: number; status: string }[];
  failed: { key: string; attempts: number; batchId: string; error: string }[];
  stranded: { key: string; attempts: number; batchId: string; leaseUntil: string }[];
}

/**
 * Reads a run's plan batch by batch and asks the ledger how each planned object (or byte range
 * of one) ended. Memory holds one planned batch at a time; the lists grow only with objects
 * that failed, were retried or are stranded.
 *
 * @param deps - the lake holding the plan, and the ledger
 * @param planKey - the run's plan (JSON Lines, one planned batch a line)
 */
export const objectOutcomes = async (
  deps: { store: ObjectStore; ledger: Ledger },
  planKey: string
): Promise<ObjectOutcomes> => {
  const outcomes: ObjectOutcomes = {
    counts: { planned: 0, succeeded: 0, retried: 0, failed: 0, stranded: 0 },
    retried: [],
    failed: [],
    stranded: [],
  };
  await Workspace.use('reconcile-plan', async (ws) => {
    const local = ws.path('plan.jsonl');
    await deps.store.download(planKey, local);
    for await (const line of createInterface({ input: createReadStream(local) })) {
      if (!line.trim()) continue;
      const batch = JSON.parse(line) as PlannedBatch;
      const ids = batch.objects.map((o) => (o.range ? rangeKey(o.key, o.range) : o.key));
      const entries = await deps.ledger.getMany(ids);
      for (const key of ids) {
        const entry = entries.get(key);
        outcomes.counts.planned++;
        if (!entry) continue;
        const { attempts, status, batchId = '' } = entry;
        if (status === 'SUCCEEDED') outcomes.counts.succeeded++;
        if (attempts > 1) {
          outcomes.counts.retried++;
          outcomes.retried.push({ key, attempts, status });
        }
        if (status === 'FAILED') {
          outcomes.counts.failed++;
          outcomes.failed.push({ key, attempts, batchId, error: entry.error ?? '' });
        }
        if (status === 'PROCESSING') {
          outcomes.counts.stranded++;
          outcomes.stranded.push({ key, attempts, batchId, leaseUntil: entry.leaseUntil ?? '' });
        }
      }
    }
  });
  return outcomes;
};
