import { runPlanBacklog } from '@strata/core/plan-backlog';
import { emptyLedger, GeneratedListing } from '../../test/support/generatedListing.js';
import {
  type BenchOptions,
  type Measurement,
  medianMs,
  peakRssMb,
  type Workload,
} from '../workload.js';

const OBJECTS = 2_000_000;

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
        { store: new GeneratedListing(OBJECTS, false), ledger: emptyLedger }
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
