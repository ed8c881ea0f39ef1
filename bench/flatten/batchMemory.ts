/*
 * How much memory each batch of a workload needs at the planned batch size, against half of
 * FlattenBatch's (not a workload of `npm run bench`). Generates the input under --dir once (the
 * narrow backlog, or flatten-wide's webhook payloads), plans it with the real planner (256 MiB
 * batches, the plan's default), and flattens the batches one after another in this process, as
 * one warm function would, with the engine FlattenBatch's handler gives DuckDB at its memory
 * (functions/_shared/engine.ts: a thread per vCPU, 60% of the memory as DuckDB's limit). The
 * process's RSS is sampled every 20 ms during each batch; its peak is the batch's need.
 *
 *   NODE_OPTIONS=--openssl-legacy-provider npx tsx bench/flatten/batchMemory.ts \
 *     --workload backlog|wide --dir /tmp/strata-memory [--size 800] [--memory-limit 1592MB]
 *     [--threads 1] [--batch-size 128]
 *
 * --memory-limit and --threads give DuckDB other settings than the handler's, and --batch-size
 * (MiB) plans smaller batches than the default, to find what keeps a batch within half of the
 * function.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FLATTEN_BATCH_MEMORY_MB } from '@strata/core/cost';
import { DuckDbEngine } from '@strata/core/engine';
import { runFlattenBatch } from '@strata/core/flatten';
import { generateBacklog } from '@strata/local/backlog';
import { engineOptions } from '../../functions/_shared/engine.js';
import { flattenWide } from '../workloads/flattenWide.js';
import { startServices } from './services.js';
import { FLATTEN_OPTIONS, planBatches } from './strata.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'backlog' },
    dir: { type: 'string', default: '/tmp/strata-memory' },
    /** Raw MB of input: enough for full 256 MiB batches (the backlog has three feeds). */
    size: { type: 'string', default: '800' },
    'memory-limit': { type: 'string' },
    threads: { type: 'string' },
    'batch-size': { type: 'string' },
  },
});
const wide = values.workload === 'wide';
const dir = values.dir as string;
const bytes = Number(values.size) * 1e6;
const MIB = 1024 ** 2;
const engine = {
  ...engineOptions({ memoryLimitInMB: String(FLATTEN_BATCH_MEMORY_MB) }),
  ...(values['memory-limit'] ? { memoryLimit: values['memory-limit'] } : {}),
  ...(values.threads ? { threads: Number(values.threads) } : {}),
};
const targetBatchBytes = values['batch-size']
  ? Number(values['batch-size']) * 1024 ** 2
  : undefined;

if (!existsSync(join(dir, 'generated'))) {
  if (wide) {
    await flattenWide.setup?.({
      dir,
      wideBytes: bytes,
      scale: 0,
      repeat: 1,
      backlogBytes: 0,
      flattenBytes: 0,
    });
  } else {
    const services = await startServices({ directory: join(dir, 's3') });
    try {
      await generateBacklog({
        store: services.store,
        targetBytes: bytes,
        seed: 42,
        feeds: ['clickstream', 'payments', 'devices'],
        objectBytes: Math.round((9 * 1024 ** 4) / 2_000_000),
      });
    } finally {
      await services.stop();
    }
  }
  await mkdir(join(dir, 'generated'));
}

const services = await startServices({
  directory: join(dir, 's3'),
  ledgerTables: ['ledger-plan', 'ledger-run'],
});
try {
  const feeds = wide ? ['webhooks'] : ['clickstream', 'payments', 'devices'];
  const batches = await planBatches(
    feeds,
    { store: services.store, ledger: services.ledger('ledger-plan') },
    targetBatchBytes
  );
  const half = FLATTEN_BATCH_MEMORY_MB / 2;
  console.log(
    `${values.workload}: ${batches.length} batches; FlattenBatch ${FLATTEN_BATCH_MEMORY_MB} MB (half: ${half} MB), DuckDB threads ${engine.threads}, memory_limit ${engine.memoryLimit}`
  );
  for (const batch of batches) {
    const planned = batch.objects.reduce((sum, o) => sum + o.size, 0) / MIB;
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    const started = performance.now();
    const result = await DuckDbEngine.use(engine, (duck) =>
      runFlattenBatch(batch, {
        store: services.store,
        engine: duck,
        ledger: services.ledger('ledger-run'),
        options: FLATTEN_OPTIONS,
      })
    );
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    const mb = peak / 1e6;
    console.log(
      `  ${batch.batchId}: ${planned.toFixed(0)} MiB planned, ${result.rowsWritten} rows, ${((performance.now() - started) / 1000).toFixed(1)} s, peak RSS ${mb.toFixed(0)} MB = ${((100 * mb) / FLATTEN_BATCH_MEMORY_MB).toFixed(0)}% of the function (${mb <= half ? 'within' : 'PAST'} half)`
    );
  }
} finally {
  await services.stop();
}
