import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import type { FlattenBatchResult } from '@strata/core/flatten';
import { generateBacklog } from '@strata/local/backlog';
import { duckDbCopy, nodeLoop, type PlainBacklog, parquetjsLite } from '../flatten/baselines.js';
import { collectFieldPaths } from '../flatten/event.js';
import { startServices } from '../flatten/services.js';
import {
  checkOutputs,
  childOutputsOf,
  flattenBatches,
  outputsOf,
  planBatches,
  totals,
} from '../flatten/strata.js';
import {
  type BenchOptions,
  type Measurement,
  medianMs,
  peakRssMb,
  type Workload,
  withCpuTime,
} from '../workload.js';

const FEEDS = ['clickstream', 'payments', 'devices'] as const;
const MB = 1024 * 1024;
/** One core, as the per-core target is stated; the Lambda's second vCPU is the cost model's. */
const ENGINE = { threads: 1 } as const;

/** What setup leaves in the workload's directory for run. */
interface Prepared {
  /** Well-formed records and malformed lines or files the generator wrote. */
  records: number;
  malformed: number;
  objects: number;
  /** Lines of the plain files that are not JSON (the truncated gzip files are not among them). */
  malformedLines: number;
  /** Uncompressed bytes of every readable object: the unit of every rate in this workload. */
  bytes: number;
  plain: PlainBacklog;
  /** Every field path the records carry (`user.address.city`, `payload.items.sku`). */
  fields: string[];
}

const paths = (dir: string) => ({
  s3: join(dir, 's3'),
  plain: join(dir, 'plain'),
  prepared: join(dir, 'prepared.json'),
  out: join(dir, 'out'),
});

/** Ledger tables: one for the plan, one per repetition (warm-up included), all empty. */
const ledgerTables = (repeat: number) => [
  'ledger-plan',
  ...Array.from({ length: repeat + 1 }, (_, n) => `ledger-${n}`),
];

/**
 * 9 TB in about 2,000,000 objects (the issue's backlog, as plan-backlog's test lists it) is some
 * 4.5 MiB an object: the size per-object costs are spread over in a real backfill.
 */
const BACKLOG_OBJECT_BYTES = Math.round((9 * 1024 ** 4) / 2_000_000);

/**
 * The nested backlog flattened by runFlattenBatch, end to end through local S3 and the DynamoDB
 * ledger, against baselines on the same bytes as plain local files: DuckDB's own
 * `read_json → COPY` with a hand-written schema (to one file, and partitioned as Strata writes),
 * a bare JSON.parse + flatten loop, and parquetjs-lite writing the same rows.
 *
 * @param spec - the workload's name and description, and its objects' typical size
 */
const backlogWorkload = (spec: {
  name: string;
  description: string;
  objectBytes?: number;
}): Workload => ({
  name: spec.name,
  description: spec.description,

  async setup(options: BenchOptions): Promise<void> {
    const dirs = paths(options.dir);
    await mkdir(dirs.plain, { recursive: true });
    const services = await startServices({ directory: dirs.s3 });
    try {
      const backlog = await generateBacklog({
        store: services.store,
        targetBytes: options.backlogBytes,
        seed: 42,
        feeds: FEEDS,
        ...(spec.objectBytes ? { objectBytes: spec.objectBytes } : {}),
      });
      const plain: PlainBacklog = { lines: [], arrays: [] };
      const fields = new Set<string>();
      let bytes = 0;
      let malformedLines = 0;
      for (const [n, object] of backlog.objects.entries()) {
        const body = Buffer.from((await services.store.get(object.key)) ?? new Uint8Array());
        let text: Buffer;
        try {
          text = object.gzip ? gunzipSync(body) : body;
        } catch {
          continue; // the truncated gzip: no reader gets records out of it
        }
        const path = join(dirs.plain, `${n}.json`);
        await writeFile(path, text);
        (object.format === 'array' ? plain.arrays : plain.lines).push(path);
        bytes += text.length;
        const chunks = object.format === 'array' ? [text.toString()] : text.toString().split('\n');
        for (const chunk of chunks.filter(Boolean)) {
          try {
            collectFieldPaths(JSON.parse(chunk), fields);
          } catch {
            malformedLines++;
          }
        }
      }
      const prepared: Prepared = {
        records: backlog.records,
        malformed: backlog.malformed,
        objects: backlog.objects.length,
        malformedLines,
        bytes,
        plain,
        fields: [...fields].sort(),
      };
      await writeFile(dirs.prepared, JSON.stringify(prepared));
    } finally {
      await services.stop();
    }
  },

  async run(options: BenchOptions): Promise<Measurement[]> {
    const dirs = paths(options.dir);
    const prepared = JSON.parse(await readFile(dirs.prepared, 'utf8')) as Prepared;
    const services = await startServices({
      directory: dirs.s3,
      ledgerTables: ledgerTables(options.repeat),
    });
    try {
      const { store } = services;
      const batches = await planBatches(FEEDS, { store, ledger: services.ledger('ledger-plan') });

      // Strata: every batch, one after another, each repetition against a ledger that has
      // never seen the objects (raw objects stay in place), so each does the same full work.
      let repetition = 0;
      let results: FlattenBatchResult[] = [];
      const strata = withCpuTime(async () => {
        const ledger = services.ledger(`ledger-${repetition++}`);
        results = await flattenBatches(batches, { store, ledger, engine: ENGINE });
      });
      const strataMs = await medianMs(options.repeat, strata.work);
      const strataRssMb = peakRssMb();

      // Nothing silently dropped: every record is a row or quarantined, and every field of the
      // input is a column or inside a JSON column of the Parquet read back from the lake.
      const sums = totals(results);
      const counted = sums.rowsWritten + sums.recordsQuarantined;
      const check = await checkOutputs(
        await outputsOf(store, results),
        { rows: sums.rowsWritten, fields: prepared.fields },
        {
          store,
          dir: dirs.out,
          schemaKeys: results.map((result) => result.schemaKey),
          children: await childOutputsOf(store, results),
        }
      );
      const balanced = counted === prepared.records + prepared.malformed;
      const accounting = `rows + quarantined ${balanced ? '=' : '≠'} records + malformed (${sums.rowsWritten.toLocaleString('en-US')} + ${sums.recordsQuarantined} vs ${prepared.records.toLocaleString('en-US')} + ${prepared.malformed})`;
      if (!balanced || !check.ok) {
        throw new Error(`${spec.name} dropped data: ${accounting}; ${check.summary}`);
      }

      // Baselines, in this process, on the same records as plain local files.
      const duckOut = join(options.dir, 'duckdb.parquet');
      const duck = withCpuTime(() =>
        DuckDbEngine.use(ENGINE, (engine) => duckDbCopy(engine, prepared.plain, duckOut))
      );
      const duckMs = await medianMs(options.repeat, duck.work);
      /** DuckDB's COPY in Strata's layout, the hand-written types given or cast from text. */
      const partitioned = async (lossless: boolean) => {
        const out = join(options.dir, lossless ? 'duckdb-lossless' : 'duckdb-partitioned');
        const ms = await medianMs(options.repeat, async () => {
          await rm(out, { recursive: true, force: true });
          await DuckDbEngine.use(ENGINE, (engine) =>
            duckDbCopy(engine, prepared.plain, out, { partitioned: true, lossless })
          );
        });
        return { ms, out };
      };
      const parted = await partitioned(false);
      const lossless = await partitioned(true);
      const rowsIn = (parquet: string) =>
        DuckDbEngine.use(ENGINE, (engine) =>
          engine.scalarNumber(`select count(*) from read_parquet(${quoteLiteral(parquet)})`)
        );
      const duckRows = await rowsIn(duckOut);
      const losslessRows = await rowsIn(join(lossless.out, '**', '*.parquet'));
      let loopRows = 0;
      const loopMs = await medianMs(options.repeat, async () => {
        loopRows = (await nodeLoop(prepared.plain)).rows;
      });
      // parquetjs-lite is some fifteen times slower than DuckDB: fewer repetitions keep the run short.
      let parquetjsRows = 0;
      const parquetjsMs = await medianMs(Math.min(options.repeat, 2), async () => {
        parquetjsRows = await parquetjsLite(prepared.plain, join(options.dir, 'parquetjs.parquet'));
      });
      // DuckDB's ignore_errors leaves one all-NULL row for each malformed line.
      const wrong = Object.entries({
        duckRows: duckRows - prepared.malformedLines,
        losslessRows: losslessRows - prepared.malformedLines,
        loopRows,
        parquetjsRows,
      }).filter(([, rows]) => rows !== sums.rowsWritten);
      if (wrong.length > 0) {
        throw new Error(
          `${spec.name}: baselines read other row counts than Strata wrote (${sums.rowsWritten}): ${wrong.map(([name, rows]) => `${name} ${rows}`).join(', ')}`
        );
      }

      const common = {
        workload: spec.name,
        unit: 'MiB',
        amount: prepared.bytes / MB,
        strataMs,
        peakRssMb: strataRssMb,
      };
      const onePass = results.filter((result) => !result.keyPass).length;
      const checked = `${prepared.objects} objects, ${batches.length} batches (${onePass} read their JSON Lines once, without the key pass); ${accounting}; ${check.summary}`;
      // Per CPU-second rather than per wall second: the time Strata waits on S3 and the ledger
      // is left out (in AWS their CPU is not the function's either).
      const cpu = `CPU time a run: Strata ${Math.round(strata.medianMs())} ms (${Math.round((100 * strata.medianMs()) / strataMs)}% of its wall time), DuckDB ${Math.round(duck.medianMs())} ms: per CPU-second ${(duck.medianMs() / strata.medianMs()).toFixed(2)}×`;
      return [
        {
          ...common,
          baselineMs: duckMs,
          baseline:
            'DuckDB read_json(columns=hand-written) → COPY zstd Parquet, local files, 1 thread',
          baselineName: 'DuckDB',
          ratio: duckMs / strataMs,
          target: 0.7,
          notes: `${checked}; ${cpu}`,
        },
        {
          ...common,
          baselineMs: parted.ms,
          baseline:
            'the same DuckDB COPY partitioned year/month/day/mode (Strata’s layout), local files, 1 thread',
          baselineName: 'DuckDB partitioned',
          ratio: parted.ms / strataMs,
          notes: `DuckDB partitioned ÷ DuckDB one file: ${(duckMs / parted.ms).toFixed(2)}× (what the layout alone costs)`,
        },
        {
          ...common,
          baselineMs: lossless.ms,
          baseline:
            'the same partitioned COPY reading strings as text and numbers and booleans as JSON, casting each and keeping misfits in _variant (losing no value, as Strata must), local files, 1 thread',
          baselineName: 'DuckDB partitioned, lossless',
          ratio: lossless.ms / strataMs,
          notes: `DuckDB partitioned lossless ÷ DuckDB one file: ${(duckMs / lossless.ms).toFixed(2)}× (the layout and the lossless read, before S3, the ledger, lineage or quarantine)`,
        },
        {
          ...common,
          baselineMs: loopMs,
          baseline: 'JSON.parse + flatten loop in Node, writes nothing',
          baselineName: 'JSON.parse loop',
          ratio: loopMs / strataMs,
        },
        {
          ...common,
          baselineMs: parquetjsMs,
          baseline: `parquetjs-lite, same rows, SNAPPY (no ZSTD), median of ${Math.min(options.repeat, 2)}`,
          baselineName: 'parquetjs-lite',
          ratio: parquetjsMs / strataMs,
          notes: `peak RSS after all baselines ${Math.round(peakRssMb())} MB`,
        },
      ];
    } finally {
      await services.stop();
    }
  },
});

/** The backlog as the issue sizes it: objects of some 4.5 MiB (the cost model's rate). */
export const flattenBacklog = backlogWorkload({
  name: 'flatten-backlog',
  description:
    'flatten the generated nested backlog, 4.5 MiB objects (S3 → Parquet in S3) vs DuckDB COPY, a JSON.parse loop and parquetjs-lite',
  objectBytes: BACKLOG_OBJECT_BYTES,
});

/**
 * The same backlog in small drops of some 45 KiB, each a day of its own: the worst case, where
 * per-object and per-partition costs (ledger, requests, one Parquet file per day and mode) rule.
 */
export const flattenSmallFiles = backlogWorkload({
  name: 'flatten-small-files',
  description:
    'flatten the generated nested backlog in 45 KiB objects, one day each: the small-files worst case',
});
