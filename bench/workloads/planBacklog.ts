import { runPlanBacklog } from '@strata/core/plan-backlog';
import type { Ledger, ObjectInfo, ObjectStore } from '@strata/core/ports';
import {
  type BenchOptions,
  type Measurement,
  medianMs,
  peakRssMb,
  type Workload,
} from '../workload.js';

const OBJECTS = 2_000_000;

/** A generated listing; the manifest upload is only measured for size. */
class GeneratedListing implements ObjectStore {
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (let i = 0; i < OBJECTS; i++) {
      yield { key: `${prefix}part-${i}.json.gz`, size: 1_000 + ((i * 7919) % 250_000) };
    }
  }
  async upload(): Promise<void> {}
  get(): Promise<Uint8Array | undefined> {
    throw new Error('not used');
  }
  put(): Promise<void> {
    throw new Error('not used');
  }
  download(): Promise<void> {
    throw new Error('not used');
  }
  delete(): Promise<void> {
    throw new Error('not used');
  }
}

const emptyLedger: Ledger = {
  getMany: async () => new Map(),
  claim: async () => true,
  succeed: async () => undefined,
  fail: async () => undefined,
};

/**
 * plan-backlog over a generated listing of 2,000,000 objects (no S3 or ledger latency): the
 * planner's own time and memory, which must fit a Lambda (15 min, up to 10 GB).
 */
export const planBacklog: Workload = {
  name: 'plan-backlog-2m',
  description: 'plan 2,000,000 listed objects into batches (planner CPU and memory only)',
  async run(options: BenchOptions): Promise<Measurement> {
    const heapBefore = process.memoryUsage().heapUsed;
    let peakHeap = heapBefore;
    const sampler = setInterval(() => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }, 20);
    const strataMs = await medianMs(Math.min(options.repeat, 2), async () => {
      await runPlanBacklog(
        { runId: 'bench', feed: 'clicks', prefix: 'raw/clicks/all_historical_files/' },
        { store: new GeneratedListing(), ledger: emptyLedger }
      );
    });
    clearInterval(sampler);
    return {
      workload: this.name,
      unit: 'objects',
      amount: OBJECTS,
      strataMs,
      peakRssMb: peakRssMb(),
      notes: `heap growth ${((peakHeap - heapBefore) / 1024 / 1024).toFixed(0)} MB`,
    };
  },
};
