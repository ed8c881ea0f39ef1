import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { warehouseFor } from '@strata/core/adapters';
import {
  createEmptyHistory,
  historySql,
  qualityScore,
  rejectReason,
  runBronzeToSilver,
  standardisedColumns,
} from '@strata/core/bronze-to-silver';
import {
  configSchema,
  parseOrThrow,
  quoteIdentifier,
  quoteLiteral,
  type StrataConfig,
} from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { type BronzeManifest, type ExtractResult, runExtract } from '@strata/core/extract';
import { GOLD_MODELS, loadGoldModel, runSilverToGold } from '@strata/core/silver-to-gold';
import { EmbeddedRuntime } from '@strata/local/runtime';
import { advanceDay } from '@strata/local/warehouse';
import { engineOptions } from '../../functions/_shared/engine.js';
import { LAMBDAS } from '../../stacks/lambdas.js';
import {
  type BenchOptions,
  type Measurement,
  medianMs,
  peakRssMb,
  type Workload,
} from '../workload.js';

/** The bench runs on the embedded warehouse, which needs no credentials. */
const noSecrets = async (id: string): Promise<string> => {
  throw new Error(`the bench has no secret ${id}`);
};

/**
 * Both stages run with their function's memory, as Lambda gives it (2,048 MB: one thread and
 * DuckDB 1.2 GB, which spills past it), so SF1 is measured where it must fit; the baseline gets
 * the same engine.
 */
const ENGINE = engineOptions({
  memoryLimitInMB: String(Math.min(LAMBDAS.BronzeToSilver.memoryMb, LAMBDAS.SilverToGold.memoryMb)),
});

/**
 * The stage's SQL (packages/core/src/bronze-to-silver/) for a first run (no previous silver
 * table), reading local files and writing local files: the contract's standardisation, null
 * rules and quality score, the deduplication, and the history table of a query that keeps one;
 * no object store, no quarantine file or reconciliation counts.
 */
const baselineSteps = (
  query: StrataConfig['queries'][number],
  manifest: BronzeManifest,
  files: readonly string[],
  out: string
): ((engine: DuckDbEngine) => Promise<void>)[] => {
  const key = query.primary_key.map((c) => quoteIdentifier(c.toLowerCase()));
  const incoming = quoteIdentifier(`${query.name}__incoming`);
  const current = quoteIdentifier(`${query.name}__current`);
  const statements: ((engine: DuckDbEngine) => Promise<void>)[] = [
    `create or replace temp table ${incoming} as
     select *, ${rejectReason(query.primary_key, query.contract)} as _reject_reason,
       ${qualityScore(manifest.columns, query.contract)} as data_quality_score
     from (select ${standardisedColumns(manifest.columns, query.contract)}
           from read_parquet([${files.map(quoteLiteral).join(', ')}]))`,
    `create or replace temp table ${current} as
     select * exclude (_reject_reason), null::timestamptz as _deleted_at from ${incoming}
     where _reject_reason is null
     qualify row_number() over (partition by ${key.join(', ')} order by _extracted_at desc, _batch desc) = 1
     order by ${key.join(', ')}`,
    `copy ${current} to ${quoteLiteral(out)} (format parquet, compression zstd)`,
  ].map((sql) => (engine: DuckDbEngine) => engine.run(sql));
  const { history } = query;
  if (history) {
    const previous = quoteIdentifier(`${query.name}__history`);
    statements.push(async (engine) => {
      await createEmptyHistory(engine, previous, current, history);
      await engine.run(
        `copy (${historySql({ current, previous, primaryKey: query.primary_key, history })})
         to ${quoteLiteral(out.replace(/\.parquet$/, '-history.parquet'))} (format parquet, compression zstd)`
      );
    });
  }
  return statements;
};

/** What setup leaves in the workload's directory for run. */
interface Prepared {
  runId: string;
  extracts: ExtractResult[];
  /** Each entity's bronze manifest and its parts downloaded to local disk, for the baseline. */
  bronze: { manifest: BronzeManifest; parts: string[] }[];
}

const paths = (dir: string) => ({
  runtime: join(dir, 'runtime'),
  bronze: join(dir, 'bronze'),
  prepared: join(dir, 'prepared.json'),
});

/** The default config, pointed at the runtime's warehouse. */
const configOf = async (runtime: EmbeddedRuntime): Promise<StrataConfig> => {
  const config = parseOrThrow(configSchema, await runtime.defaultConfig(), 'config');
  // The untimed setup extracts through the warehouse's own Parquet writer: at TPC-H SF1
  // (6M line items) streaming rows through the function would take most of the bench's time.
  return { ...config, queries: config.queries.map((query) => ({ ...query, unload: true })) };
};

/** Extracts every configured entity as run `runId` started at `startedAt`, as the pipeline does. */
const extractAll = async (
  runtime: EmbeddedRuntime,
  config: StrataConfig,
  runId: string,
  startedAt: Date
): Promise<ExtractResult[]> => {
  const runStartedAt = startedAt.toISOString();
  const extracts: ExtractResult[] = [];
  for (const query of config.queries) {
    const warehouse = await warehouseFor(config, { secret: noSecrets, store: runtime.store });
    try {
      extracts.push(
        await DuckDbEngine.use(ENGINE, (engine) =>
          runExtract(
            { entity: query.name, runId, runDate: runStartedAt.slice(0, 10), runStartedAt },
            { store: runtime.store, warehouse, engine, config, watermarks: runtime.watermarks }
          )
        )
      );
    } finally {
      await warehouse.close();
    }
  }
  return extracts;
};

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

const percent = (part: number, whole: number) =>
  whole > 0 ? `${((100 * part) / whole).toFixed(2)}%` : '—';

/**
 * bronze-to-silver on the default sample, end to end through local S3 (download bronze, dedupe
 * and upsert, write silver Parquet, upload), against DuckDB running the same SQL on the same
 * bronze Parquet already on local disk.
 */
export const silverStage: Workload = {
  name: 'silver-stage',
  description:
    'bronze-to-silver (S3 in, standardise, dedupe, history, S3 out), then silver-to-gold, each vs the same SQL in DuckDB on local files',

  /** Extracts every configured entity to bronze once, and downloads the parts for the baseline. */
  async setup(options: BenchOptions): Promise<void> {
    const dirs = paths(options.dir);
    const runtime = await EmbeddedRuntime.start({
      dir: dirs.runtime,
      scale: options.scale,
      fresh: true,
    });
    try {
      const config = await configOf(runtime);
      const runId = 'bench-1';
      const extracts = await extractAll(runtime, config, runId, new Date());
      await mkdir(dirs.bronze, { recursive: true });
      const bronze: Prepared['bronze'] = [];
      for (const extract of extracts) {
        const body = await runtime.store.get(extract.manifestKey);
        if (!body) throw new Error(`silver-stage: no manifest at ${extract.manifestKey}`);
        const manifest = JSON.parse(new TextDecoder().decode(body)) as BronzeManifest;
        const parts: string[] = [];
        for (const part of manifest.parts) {
          const path = join(dirs.bronze, `${manifest.entity}-${parts.length}.parquet`);
          await runtime.store.download(part.key, path);
          parts.push(path);
        }
        bronze.push({ manifest, parts });
      }
      const prepared: Prepared = { runId, extracts, bronze };
      await writeFile(dirs.prepared, JSON.stringify(prepared));
    } finally {
      await runtime.stop();
    }
  },

  async run(options: BenchOptions): Promise<Measurement[]> {
    const dirs = paths(options.dir);
    const { runId, extracts, bronze } = JSON.parse(
      await readFile(dirs.prepared, 'utf8')
    ) as Prepared;
    // The lake setup left behind (fresh: false); the warehouse is re-seeded but not read.
    const runtime = await EmbeddedRuntime.start({
      dir: dirs.runtime,
      scale: options.scale,
      fresh: false,
    });
    try {
      const config = await configOf(runtime);
      const rows = extracts.reduce((sum, extract) => sum + extract.rows, 0);
      const startRssMb = peakRssMb();

      // Strata: the stage end to end. Each run starts without silver tables, so every run does
      // a first upsert (no merge with a previous run's output).
      const silverKeys = async () => {
        const keys: string[] = [];
        for await (const object of runtime.store.list('silver/')) keys.push(object.key);
        return keys;
      };
      let silverRows = 0;
      const strataMs = await medianMs(
        options.repeat,
        async () => {
          const result = await DuckDbEngine.use(ENGINE, (engine) =>
            runBronzeToSilver({ runId, extracts }, { store: runtime.store, engine, config })
          );
          silverRows = result.datasets.reduce((sum, dataset) => sum + dataset.rowsOut, 0);
        },
        async () => {
          const keys = await silverKeys();
          if (keys.length > 0) await runtime.store.delete(keys);
        }
      );

      // Baseline: the same SQL on the same bronze parts, on local disk. Like the stage, an
      // entity without bronze parts this run writes nothing.
      const entities = bronze
        .filter(({ parts }) => parts.length > 0)
        .map(({ manifest, parts }) => {
          const query = config.queries.find((q) => q.name === manifest.entity);
          if (!query) throw new Error(`silver-stage: ${manifest.entity} is not configured`);
          const out = join(options.dir, `silver-${manifest.entity}.parquet`);
          return {
            entity: manifest.entity,
            statements: baselineSteps(query, manifest, parts, out),
            out,
          };
        });
      const baselineMs = await medianMs(options.repeat, () =>
        DuckDbEngine.use(ENGINE, async (engine) => {
          for (const { statements } of entities) {
            for (const statement of statements) await statement(engine);
          }
        })
      );
      const peakMb = peakRssMb();

      // Both sides must have produced the same silver tables (row counts), or the ratio is moot.
      const baselineRows = await DuckDbEngine.use(ENGINE, (engine) =>
        engine.scalarNumber(
          `select count(*) from read_parquet([${entities.map((e) => quoteLiteral(e.out)).join(', ')}], union_by_name = true)`
        )
      );
      if (silverRows !== baselineRows) {
        throw new Error(
          `silver-stage: Strata wrote ${silverRows} silver rows, the baseline ${baselineRows}`
        );
      }

      // Gold on the silver tables just written: silver-to-gold end to end (S3 in, every model,
      // its quality rules and report, S3 out) against the models' SQL on the baseline's files.
      const models = await Promise.all(GOLD_MODELS.map(loadGoldModel));
      let goldRows = 0;
      const goldMs = await medianMs(options.repeat, async () => {
        const result = await DuckDbEngine.use(ENGINE, (engine) =>
          runSilverToGold({ runId }, { store: runtime.store, engine })
        );
        goldRows = result.models.reduce((sum, model) => sum + model.rows, 0);
      });
      const goldBaselineMs = await medianMs(options.repeat, () =>
        DuckDbEngine.use(ENGINE, async (engine) => {
          for (const { entity, out } of entities) {
            await engine.run(
              `create or replace view ${quoteIdentifier(`silver_${entity}`)} as select * from read_parquet(${quoteLiteral(out)})`
            );
          }
          for (const model of models) {
            const out = join(options.dir, `gold-${model.name}.parquet`);
            await engine.run(
              `copy (\n${model.sql}\n) to ${quoteLiteral(out)} (format parquet, compression zstd)`
            );
          }
        })
      );

      // An incremental run on the silver just written: the warehouse moves on a simulated day
      // (about a thousandth of the orders and line items new, a few customers changed, one
      // deleted), every entity is extracted again (orders and line items incrementally) and
      // bronze-to-silver runs once; what counts is the bytes it rewrote of silver's.
      const day = await advanceDay({ path: runtime.warehousePath });
      // Started now, after setup's run, as the next scheduled run would be: silver keeps the
      // latest extract of a key, so an earlier start would make every snapshot row look stale.
      const nextExtracts = await extractAll(runtime, config, 'bench-2', new Date());
      const incrementalStarted = performance.now();
      const incremental = await DuckDbEngine.use(ENGINE, (engine) =>
        runBronzeToSilver(
          { runId: 'bench-2', extracts: nextExtracts },
          { store: runtime.store, engine, config }
        )
      );
      const incrementalMs = performance.now() - incrementalStarted;
      // The day deleted one customer: any other count means the run misread the snapshot.
      const deleted = incremental.datasets.reduce((sum, d) => sum + d.rowsDeleted, 0);
      if (deleted !== (day.deletedCustomer === null ? 0 : 1)) {
        throw new Error(`silver-incremental: ${deleted} rows soft-deleted after one simulated day`);
      }
      const totals = (datasets: typeof incremental.datasets) => ({
        written: datasets.reduce(
          (sum, d) => sum + d.bytesWritten + (d.history?.bytesWritten ?? 0),
          0
        ),
        total: datasets.reduce((sum, d) => sum + d.bytesTotal + (d.history?.bytesTotal ?? 0), 0),
      });
      const all = totals(incremental.datasets);
      const partitioned = totals(
        incremental.datasets.filter((d) =>
          config.queries.some((q) => q.name === d.entity && q.silver_partition)
        )
      );
      const silverAfter = incremental.datasets.reduce((sum, d) => sum + d.rowsOut, 0);
      const changedRows =
        day.newOrders +
        day.lateOrders +
        day.newLineItems +
        day.movedCustomers +
        day.rebalancedCustomers +
        day.newCustomers +
        (day.deletedCustomer === null ? 0 : 1);
      const perEntity = incremental.datasets
        .flatMap((d) => [
          `${d.entity} ${percent(d.bytesWritten, d.bytesTotal)} of ${mb(d.bytesTotal)}`,
          ...(d.history
            ? [
                `${d.history.table} ${percent(d.history.bytesWritten, d.history.bytesTotal)} of ${mb(d.history.bytesTotal)}`,
              ]
            : []),
        ])
        .join(', ');

      const baseline = 'DuckDB, same SQL on local files, 1 thread';
      return [
        {
          workload: this.name,
          unit: 'rows',
          amount: rows,
          strataMs,
          baselineMs,
          baseline,
          baselineName: 'DuckDB',
          ratio: baselineMs / strataMs,
          peakRssMb: peakMb,
          notes: `${extracts.length} entities, ${silverRows.toLocaleString('en-US')} silver rows; peak RSS ${Math.round(startRssMb)} MB before timing (runtime + seed)`,
        },
        {
          workload: 'gold-stage',
          unit: 'rows',
          amount: silverRows,
          strataMs: goldMs,
          baselineMs: goldBaselineMs,
          baseline,
          baselineName: 'DuckDB',
          ratio: goldBaselineMs / goldMs,
          peakRssMb: peakRssMb(),
          notes: `${models.length} models, ${goldRows.toLocaleString('en-US')} gold rows, quality rules checked`,
        },
        {
          workload: 'silver+gold',
          unit: 'rows',
          amount: rows,
          strataMs: strataMs + goldMs,
          baselineMs: baselineMs + goldBaselineMs,
          baseline,
          baselineName: 'DuckDB',
          ratio: (baselineMs + goldBaselineMs) / (strataMs + goldMs),
          target: 0.5,
          peakRssMb: peakRssMb(),
          notes: 'both stages end to end; the target is at most 2× DuckDB’s time',
        },
        {
          workload: 'silver-incremental',
          unit: 'rows',
          amount: nextExtracts.reduce((sum, extract) => sum + extract.rows, 0),
          strataMs: incrementalMs,
          peakRssMb: peakRssMb(),
          notes: `a simulated day, ${changedRows.toLocaleString('en-US')} rows changed of ${silverAfter.toLocaleString('en-US')} (${percent(changedRows, silverAfter)}); rewrote ${all.written.toLocaleString('en-US')} of silver's ${all.total.toLocaleString('en-US')} bytes (${percent(all.written, all.total)}; target ≤ 5%), partitioned incremental tables ${percent(partitioned.written, partitioned.total)}; by table: ${perEntity}`,
        },
      ];
    } finally {
      await runtime.stop();
    }
  },
};
