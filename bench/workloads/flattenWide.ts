import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { quoteLiteral } from '@strata/core/config';
import { FLATTEN_BATCH_MEMORY_MB } from '@strata/core/cost';
import { DuckDbEngine } from '@strata/core/engine';
import { type FlattenBatchResult, typingReport } from '@strata/core/flatten';
import { eachLimited } from '@strata/core/lake';
import { startServices } from '../flatten/services.js';
import { flattenBatches, planBatches } from '../flatten/strata.js';
import {
  type BenchOptions,
  type Measurement,
  medianMs,
  peakRssMb,
  type Workload,
  withCpuTime,
} from '../workload.js';

const FEED = 'webhooks';
const MB = 1024 * 1024;
/** One thread each, Strata and DuckDB, as issue 13 states the comparison. */
const ENGINE = { threads: 1 } as const;
/**
 * Strata's DuckDB gets the memory limit FlattenBatch's function gives it (60% of its memory,
 * functions/_shared/engine.ts). DuckDB counts vectors it sets aside per column, not pages it
 * touches: the webhooks' 3,000 columns count ~1.7 GB while the process stays near 0.6 GB, and
 * DuckDB's own recursive flatten counts 2.7 GB (it fails at a 1 GB limit), so it runs unlimited.
 */
const STRATA_ENGINE = {
  threads: 1,
  memoryLimit: `${Math.floor(FLATTEN_BATCH_MEMORY_MB * 0.6)}MB`,
} as const;
/** The backlog's object size (flatten-backlog's): 9 TB in some 2,000,000 objects. */
const OBJECT_BYTES = Math.round((9 * 1024 ** 4) / 2_000_000);
/** Every API's examples the package ships: github.com's and five GitHub Enterprise Server versions. */
const EXAMPLE_SETS = ['api.github.com', 'ghes-31', 'ghes-32', 'ghes-33', 'ghes-34', 'ghes-35'];
interface Prepared {
  records: number;
  bytes: number;
  /** Non-null scalar leaves of every record. */
  leaves: number;
  /** Distinct leaf paths (array elements as `[]`), record shapes (event and action), depth. */
  paths: number;
  shapes: number;
  depth: number;
  /** The plain JSON Lines objects DuckDB reads, the same bytes Strata reads from local S3. */
  plain: string[];
}

const paths = (dir: string) => ({
  s3: join(dir, 's3'),
  plain: join(dir, 'plain'),
  prepared: join(dir, 'prepared.json'),
});

/** Non-null scalars in a JSON value, and the deepest nesting on the way. */
const scalars = (
  value: unknown,
  visit?: (path: string, depth: number) => void,
  path = '',
  depth = 0
): number => {
  if (value === null) return 0;
  if (Array.isArray(value)) {
    return value.reduce<number>((n, item) => n + scalars(item, visit, `${path}[]`, depth + 1), 0);
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).reduce(
      (n, [key, child]) => n + scalars(child, visit, `${path}.${key}`, depth + 1),
      0
    );
  }
  visit?.(path, depth);
  return 1;
};

/**
 * Real webhook payloads of a public API (GitHub's, as @octokit/webhooks-examples ships them: 64
 * event types over six API versions, thousands of distinct leaf paths, arrays of objects, fields
 * whose kind changes between events) flattened by runFlattenBatch with the default feed config,
 * end to end through local S3 and the ledger, against DuckDB's own recursive flatten of the same
 * bytes: the whole structure inferred (`sample_size = -1`, `map_inference_threshold = -1`) and
 * `unnest(…, recursive := true)` to ZSTD Parquet. One thread each, in this process. Also
 * reports where the input's leaves landed, as the run report counts them (`typing`), and fails
 * unless they are every leaf of the input.
 */
export const flattenWide: Workload = {
  name: 'flatten-wide',
  description:
    'flatten real wide, deep webhook payloads (default config) vs DuckDB recursive flatten',

  async setup(options: BenchOptions): Promise<void> {
    const dirs = paths(options.dir);
    await mkdir(dirs.plain, { recursive: true });
    const require = createRequire(import.meta.url);
    const root = dirname(dirname(require.resolve('@octokit/webhooks-examples')));
    const lines: { text: string; leaves: number }[] = [];
    const leafPaths = new Set<string>();
    const shapes = new Set<string>();
    let depth = 0;
    for (const set of EXAMPLE_SETS) {
      const events = JSON.parse(await readFile(join(root, set, 'index.json'), 'utf8')) as {
        name: string;
        examples: Record<string, unknown>[];
      }[];
      for (const event of events) {
        for (const example of event.examples) {
          shapes.add(`${event.name}.${String(example.action ?? '')}`);
          const leaves = scalars(example, (path, d) => {
            leafPaths.add(path);
            depth = Math.max(depth, d);
          });
          lines.push({ text: JSON.stringify(example), leaves });
        }
      }
    }
    // The examples again and again up to the size asked for, in objects of the backlog's size.
    const services = await startServices({ directory: dirs.s3 });
    try {
      const plain: string[] = [];
      let [records, leaves, bytes, total, part] = [0, 0, 0, 0, [] as string[]];
      const flush = async () => {
        const body = `${part.join('\n')}\n`;
        const path = join(dirs.plain, `part-${plain.length}.jsonl`);
        await writeFile(path, body);
        plain.push(path);
        bytes += Buffer.byteLength(body);
        part = [];
      };
      for (let i = 0; bytes + total < options.wideBytes; i++) {
        const line = lines[i % lines.length] as (typeof lines)[number];
        part.push(line.text);
        records++;
        leaves += line.leaves;
        total += Buffer.byteLength(line.text) + 1;
        if (total >= OBJECT_BYTES) {
          await flush();
          total = 0;
        }
      }
      if (part.length > 0) await flush();
      await eachLimited(plain, 4, (path, n) =>
        services.store.upload(`raw/${FEED}/all_historical_files/part-${n}.jsonl`, path)
      );
      const prepared: Prepared = {
        records,
        bytes,
        leaves,
        paths: leafPaths.size,
        shapes: shapes.size,
        depth,
        plain,
      };
      await writeFile(dirs.prepared, JSON.stringify(prepared));
    } finally {
      await services.stop();
    }
  },

  async run(options: BenchOptions): Promise<Measurement> {
    const dirs = paths(options.dir);
    const prepared = JSON.parse(await readFile(dirs.prepared, 'utf8')) as Prepared;
    const services = await startServices({
      directory: dirs.s3,
      ledgerTables: [
        'ledger-plan',
        ...Array.from({ length: options.repeat + 1 }, (_, n) => `ledger-${n}`),
      ],
    });
    try {
      const { store } = services;
      const batches = await planBatches([FEED], { store, ledger: services.ledger('ledger-plan') });
      let repetition = 0;
      let results: FlattenBatchResult[] = [];
      const strata = withCpuTime(async () => {
        results = await flattenBatches(batches, {
          store,
          ledger: services.ledger(`ledger-${repetition++}`),
          engine: STRATA_ENGINE,
        });
      });
      const strataMs = await medianMs(options.repeat, strata.work);
      const strataRssMb = peakRssMb();

      // Where the leaves landed, as the run report counts them (docs/flatten.md), against the
      // leaves counted in the input.
      const typing = typingReport(
        { feed: FEED, runId: 'bench' },
        results.map((result) => result.typing)
      );
      const { leaves } = typing;
      const children = new Set(results.flatMap((r) => r.children.map((c) => c.dataset))).size;
      const share = (n: number) => `${((100 * n) / prepared.leaves).toFixed(1)}%`;
      const landed = `of ${prepared.leaves.toLocaleString('en-US')} leaves ${share(leaves.typed + leaves.child)} typed (${share(leaves.typed)} in the feed's columns, ${share(leaves.child)} in ${children} child tables), ${share(leaves.json)} in JSON text, ${share(leaves.variant)} in _variant`;
      if (leaves.total !== prepared.leaves) {
        throw new Error(`flatten-wide lost or invented leaves: found ${leaves.total} ${landed}`);
      }

      const duckOut = join(options.dir, 'duckdb.parquet');
      const files = `[${prepared.plain.map(quoteLiteral).join(', ')}]`;
      let duckColumns = 0;
      const duck = withCpuTime(() =>
        DuckDbEngine.use(ENGINE, async (engine) => {
          await engine.run(
            `copy (select unnest(json, recursive := true) from read_json(${files}, records = false, sample_size = -1, map_inference_threshold = -1, field_appearance_threshold = 0)) to ${quoteLiteral(duckOut)} (format parquet, compression zstd)`
          );
          duckColumns = await engine.scalarNumber(
            `select count(*) from (describe select * from read_parquet(${quoteLiteral(duckOut)}))`
          );
        })
      );
      const duckMs = await medianMs(options.repeat, duck.work);
      return {
        workload: 'flatten-wide',
        unit: 'MiB',
        amount: prepared.bytes / MB,
        strataMs,
        baselineMs: duckMs,
        baseline: `DuckDB read_json(sample_size=-1, map_inference_threshold=-1) + unnest(recursive := true) → ZSTD Parquet (${duckColumns} columns), local files, 1 thread`,
        baselineName: 'DuckDB recursive',
        ratio: duckMs / strataMs,
        target: 0.5,
        peakRssMb: strataRssMb,
        peakRssTargetMb: 1024,
        notes: `${prepared.records.toLocaleString('en-US')} records, ${prepared.paths.toLocaleString('en-US')} distinct leaf paths, ${prepared.shapes} event shapes, depth ${prepared.depth}; ${landed} (target ≥ 98% typed or child tables); CPU time a run: Strata ${Math.round(strata.medianMs())} ms, DuckDB ${Math.round(duck.medianMs())} ms; Strata's DuckDB memory_limit ${STRATA_ENGINE.memoryLimit}, DuckDB's none`,
      };
    } finally {
      await services.stop();
    }
  },
};
