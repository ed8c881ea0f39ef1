/*
 * Where flatten-backlog's time goes, phase by phase (not a workload of `npm run bench`).
 * Generates the workload's backlog into local S3 under --dir once (later runs reuse it), plans it,
 * and flattens every batch one after another, --repeat times after a warm-up, with the store,
 * the ledger and the engine wrapped so each call's wall time is counted by kind: S3 request,
 * ledger request, or DuckDB statement (its COPY, the structure and key queries…). Calls of one
 * kind in flight together count once (the union of their intervals); what no call covers is
 * Node's own work between them (scans, masks, planning). With KEEP_COPY=1 each batch's
 * workspace and COPY statement are kept under --dir/ws-<batch>, to time the COPY on its own.
 *
 * With --infer, batches are typed as the feed option `infer` says (`always`: from DuckDB's
 * inference over every record, as wide batches are).
 *
 *   npx tsx bench/flatten/profileBatches.ts --dir /tmp/strata-prof [--size 160] [--repeat 3] [--infer always]
 */
import { execSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDbEngine } from '@strata/core/engine';
import { runFlattenBatch } from '@strata/core/flatten';
import type { Ledger, ObjectStore } from '@strata/core/ports';
import { generateBacklog } from '@strata/local/backlog';
import { startServices } from './services.js';
import { FLATTEN_OPTIONS, planBatches } from './strata.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/strata-prof' },
    /** Raw MB of the generated backlog, as `npm run bench -- --backlog-size`. */
    size: { type: 'string', default: '160' },
    repeat: { type: 'string', default: '3' },
    infer: { type: 'string' },
  },
});
const dir = values.dir as string;
const FEEDS = ['clickstream', 'payments', 'devices'];
const repeat = Number(values.repeat);
const options = {
  ...FLATTEN_OPTIONS,
  ...(values.infer ? { infer: values.infer as 'wide' | 'always' | 'never' } : {}),
};

/** Busy intervals per kind; the union (not the sum) is what the batch waited on it. */
const spans = new Map<string, [number, number][]>();
const record = (kind: string, start: number) => {
  const list = spans.get(kind) ?? [];
  list.push([start, performance.now()]);
  spans.set(kind, list);
};
const union = (list: [number, number][]) => {
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [s, e] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const [a, b] of sorted) {
    if (a > e) {
      if (e > s) total += e - s;
      [s, e] = [a, b];
    } else e = Math.max(e, b);
  }
  if (e > s) total += e - s;
  return total;
};
const timed = <T extends object>(target: T, kindOf: (method: string, args: unknown[]) => string) =>
  new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const start = performance.now();
        const out = value.apply(obj, args);
        if (out instanceof Promise) {
          return out.finally(() => record(kindOf(String(prop), args), start));
        }
        return out;
      };
    },
  });
const sqlKind = (sql: string) => {
  const s = sql.replace(/\s+/g, ' ').trim().toLowerCase();
  if (s.startsWith('copy (select source_key')) return 'duckdb: quarantine copy';
  if (s.startsWith('copy') || s.includes('create or replace temp table batch_rows'))
    return 'duckdb: COPY (write)';
  if (s.includes('parquet_file_metadata')) return 'duckdb: parquet metadata';
  if (s.includes('parquet_metadata') || s.includes('json_tree')) return 'duckdb: typing counts';
  if (s.includes('describe')) return 'duckdb: witness describe';
  if (s.includes('json_keys') || s.includes('json_structure') || s.includes('json_group'))
    return 'duckdb: structure/keys';
  if (s.startsWith('insert into slow_rejected')) return 'duckdb: rejected insert';
  return `duckdb: other (${s.slice(0, 40)})`;
};

const services = await startServices({
  directory: join(dir, 's3'),
  ledgerTables: ['ledger-plan', ...Array.from({ length: repeat + 1 }, (_, n) => `ledger-${n}`)],
});
try {
  if (!existsSync(join(dir, 'generated'))) {
    await generateBacklog({
      store: services.store,
      targetBytes: Number(values.size) * 1e6,
      seed: 42,
      feeds: FEEDS as never,
      objectBytes: Math.round((9 * 1024 ** 4) / 2_000_000),
    });
    await mkdir(join(dir, 'generated'));
  }
  const batches = await planBatches(FEEDS, {
    store: services.store,
    ledger: services.ledger('ledger-plan'),
  });
  for (let n = 0; n <= repeat; n++) {
    spans.clear();
    const ledger = timed(services.ledger(`ledger-${n}`) as Ledger, (m) => `ledger: ${m}`);
    const store = timed(services.store as ObjectStore, (m) => `s3: ${m}`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let bytes = 0;
    for (const batch of batches) {
      bytes += batch.objects.reduce((s, o) => s + o.size, 0);
      await DuckDbEngine.use({ threads: 1 }, (raw) => {
        const engine = timed(raw, (m, args) => {
          const sql = String(args[0]);
          if (process.env.KEEP_COPY && sqlKind(sql) === 'duckdb: COPY (write)') {
            const ws = /\/tmp\/strata-flatten-batch-[A-Za-z0-9]+/.exec(sql)?.[0];
            if (ws) {
              execSync(`rm -rf ${dir}/ws-${batch.batchId}; cp -r ${ws} ${dir}/ws-${batch.batchId}`);
              writeFileSync(
                `${dir}/ws-${batch.batchId}/copy.sql`,
                sql.split(ws).join(`${dir}/ws-${batch.batchId}`)
              );
            }
          }
          return m === 'run' || m === 'all' || m === 'scalarNumber'
            ? sqlKind(String(args[0]))
            : `duckdb: ${m}`;
        });
        return runFlattenBatch(batch, { store, engine, ledger, options });
      });
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const rows = [...spans.entries()]
      .map(([kind, list]) => [kind, union(list), list.length] as const)
      .sort((a, b) => b[1] - a[1]);
    const covered = union([...spans.values()].flat());
    console.log(
      `\nrun ${n}${n === 0 ? ' (warm-up)' : ''}: ${batches.length} batches, ${(bytes / 2 ** 20).toFixed(0)} MiB planned, wall ${wall.toFixed(0)} ms, CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`
    );
    for (const [kind, ms, calls] of rows) {
      console.log(`  ${kind.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms  ${calls} calls`);
    }
    console.log(
      `  ${'(no port call in flight: Node work)'.padEnd(48)} ${(wall - covered).toFixed(0).padStart(6)} ms`
    );
  }
} finally {
  await services.stop();
}
