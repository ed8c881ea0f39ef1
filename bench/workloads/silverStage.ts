import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { warehouseFor } from '@strata/core/adapters';
import { runBronzeToSilver } from '@strata/core/bronze-to-silver';
import {
  configSchema,
  parseOrThrow,
  quoteIdentifier,
  quoteLiteral,
  type StrataConfig,
} from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { type BronzeManifest, type ExtractResult, runExtract } from '@strata/core/extract';
import { Lake } from '@strata/core/lake';
import { EmbeddedRuntime } from '@strata/local/runtime';
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

/** The stage computes on one thread, as its Lambda does; the baseline gets the same. */
const ENGINE = { threads: 1 } as const;

/** The lineage columns every bronze row carries, in the order the stage selects them. */
const LINEAGE = [
  '_source_system',
  '_source_query_sha256',
  '_extracted_at',
  '_execution_id',
  '_batch',
];

/**
 * The stage's upsert SQL (packages/core/src/bronze-to-silver/runBronzeToSilver.ts) for a first
 * run (no previous silver table), reading local files and writing a local file: no object store,
 * no quarantine or reconciliation counts.
 */
const baselineSql = (
  query: StrataConfig['queries'][number],
  manifest: BronzeManifest,
  files: readonly string[],
  out: string
): string => {
  const rename = manifest.columns
    .map((c) => `${quoteIdentifier(c.name)} as ${quoteIdentifier(c.name.toLowerCase())}`)
    .concat(LINEAGE)
    .join(', ');
  const key = query.primary_key.map((c) => quoteIdentifier(c.toLowerCase()));
  const missingKey = key.map((c) => `${c} is null`).join(' or ');
  return `copy (
    select * from (select ${rename} from read_parquet([${files.map(quoteLiteral).join(', ')}]))
    where not (${missingKey})
    qualify row_number() over (partition by ${key.join(', ')} order by _extracted_at desc, _batch desc) = 1
    order by ${key.join(', ')}
  ) to ${quoteLiteral(out)} (format parquet, compression zstd)`;
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
const configOf = async (runtime: EmbeddedRuntime): Promise<StrataConfig> =>
  parseOrThrow(configSchema, await runtime.defaultConfig(), 'config');

/**
 * bronze-to-silver on the default sample, end to end through local S3 (download bronze, dedupe
 * and upsert, write silver Parquet, upload), against DuckDB running the same SQL on the same
 * bronze Parquet already on local disk.
 */
export const silverStage: Workload = {
  name: 'silver-stage',
  description: 'bronze-to-silver (S3 in, dedupe, S3 out) vs the same SQL in DuckDB on local files',

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
      const runDate = new Date().toISOString().slice(0, 10);
      const extracts: ExtractResult[] = [];
      for (const query of config.queries) {
        const warehouse = await warehouseFor(config, { secret: noSecrets, store: runtime.store });
        try {
          extracts.push(
            await DuckDbEngine.use(ENGINE, (engine) =>
              runExtract(
                { entity: query.name, runId, runDate, runStartedAt: `${runDate}T00:00:00.000Z` },
                { store: runtime.store, warehouse, engine, config, watermarks: runtime.watermarks }
              )
            )
          );
        } finally {
          await warehouse.close();
        }
      }
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

  async run(options: BenchOptions): Promise<Measurement> {
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
      const silverKeys = config.queries.map((query) => Lake.silverTable(query.name));
      let silverRows = 0;
      const strataMs = await medianMs(
        options.repeat,
        async () => {
          const result = await DuckDbEngine.use(ENGINE, (engine) =>
            runBronzeToSilver({ runId, extracts }, { store: runtime.store, engine, config })
          );
          silverRows = result.datasets.reduce((sum, dataset) => sum + dataset.rowsOut, 0);
        },
        () => runtime.store.delete(silverKeys)
      );

      // Baseline: the same SQL on the same bronze parts, on local disk. Like the stage, an
      // entity without bronze parts this run writes nothing.
      const entities = bronze
        .filter(({ parts }) => parts.length > 0)
        .map(({ manifest, parts }) => {
          const query = config.queries.find((q) => q.name === manifest.entity);
          if (!query) throw new Error(`silver-stage: ${manifest.entity} is not configured`);
          const out = join(options.dir, `silver-${manifest.entity}.parquet`);
          return { sql: baselineSql(query, manifest, parts, out), out };
        });
      const baselineMs = await medianMs(options.repeat, () =>
        DuckDbEngine.use(ENGINE, async (engine) => {
          for (const { sql } of entities) await engine.run(sql);
        })
      );
      const peakMb = peakRssMb();

      // Both sides must have produced the same silver tables (row counts), or the ratio is moot.
      const baselineRows = await DuckDbEngine.use(ENGINE, (engine) =>
        engine.scalarNumber(
          `select count(*) from read_parquet([${entities.map((e) => quoteLiteral(e.out)).join(', ')}])`
        )
      );
      if (silverRows !== baselineRows) {
        throw new Error(
          `silver-stage: Strata wrote ${silverRows} silver rows, the baseline ${baselineRows}`
        );
      }

      return {
        workload: this.name,
        unit: 'rows',
        amount: rows,
        strataMs,
        baselineMs,
        baseline: 'DuckDB, same SQL on local files, 1 thread',
        baselineName: 'DuckDB',
        ratio: baselineMs / strataMs,
        peakRssMb: peakMb,
        notes: `${extracts.length} entities, ${silverRows.toLocaleString('en-US')} silver rows; peak RSS ${Math.round(startRssMb)} MB before timing (runtime + seed)`,
      };
    } finally {
      await runtime.stop();
    }
  },
};
