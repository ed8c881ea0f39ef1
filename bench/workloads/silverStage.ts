import { join } from 'node:path';
import { warehouseFor } from '@strata/core/adapters';
import { runBronzeToSilver } from '@strata/core/bronze-to-silver';
import { configSchema, parseOrThrow, quoteIdentifier, quoteLiteral } from '@strata/core/config';
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

/**
 * bronze-to-silver on the default sample, end to end through local S3, against DuckDB running the
 * same upsert SQL on the same Parquet already on local disk.
 */
export const silverStage: Workload = {
  name: 'silver-stage',
  description: 'bronze-to-silver (S3 in, dedupe, S3 out) vs the same SQL in DuckDB on local files',
  async run(options: BenchOptions): Promise<Measurement> {
    const runtime = await EmbeddedRuntime.start({
      dir: join(options.dir, 'silver'),
      scale: options.scale,
      fresh: true,
    });
    try {
      // Bronze is set up through the unload path: fast, and its memory is not the stage's.
      const raw = await runtime.defaultConfig();
      const queries = (raw.queries as Record<string, unknown>[]).map((q) => ({
        ...q,
        unload: true,
      }));
      const config = parseOrThrow(configSchema, { ...raw, queries }, 'config');
      const runId = 'bench-silver';
      const extracts: ExtractResult[] = [];
      for (const query of config.queries) {
        const warehouse = warehouseFor(config);
        extracts.push(
          await DuckDbEngine.use({}, (engine) =>
            runExtract(
              {
                entity: query.name,
                runId,
                runDate: '2026-01-01',
                runStartedAt: '2026-01-01T00:00:00Z',
              },
              { store: runtime.store, warehouse, engine, config, watermarks: runtime.watermarks }
            )
          )
        );
        await warehouse.close();
      }
      const rows = extracts.reduce((sum, extract) => sum + extract.rows, 0);

      const strataMs = await medianMs(options.repeat, async () => {
        await runtime.store.delete(config.queries.map((query) => Lake.silverTable(query.name)));
        await DuckDbEngine.use({}, (engine) =>
          runBronzeToSilver({ runId, extracts }, { store: runtime.store, engine, config })
        );
      });

      // The baseline reads the same bronze parts from local disk: downloads are not timed.
      const local: Record<string, { files: string[]; manifest: BronzeManifest }> = {};
      for (const extract of extracts) {
        const manifest = JSON.parse(
          new TextDecoder().decode(await runtime.store.get(extract.manifestKey))
        ) as BronzeManifest;
        const files: string[] = [];
        for (const part of manifest.parts) {
          const path = join(options.dir, `${part.key.replaceAll('/', '_')}`);
          await runtime.store.download(part.key, path);
          files.push(quoteLiteral(path));
        }
        local[extract.entity] = { files, manifest };
      }
      const baselineMs = await medianMs(options.repeat, () =>
        DuckDbEngine.use({}, async (engine) => {
          for (const query of config.queries) {
            const entry = local[query.name];
            if (!entry) continue;
            const rename = entry.manifest.columns
              .map((c) => `${quoteIdentifier(c.name)} as ${quoteIdentifier(c.name.toLowerCase())}`)
              .concat([
                '_source_system',
                '_source_query_sha256',
                '_extracted_at',
                '_execution_id',
                '_batch',
              ])
              .join(', ');
            const key = query.primary_key.map((c) => quoteIdentifier(c.toLowerCase()));
            const out = quoteLiteral(join(options.dir, `baseline-${query.name}.parquet`));
            await engine.run(
              `copy (select * from (select ${rename} from read_parquet([${entry.files.join(', ')}]))
                 where not (${key.map((c) => `${c} is null`).join(' or ')})
                 qualify row_number() over (partition by ${key.join(', ')} order by _extracted_at desc, _batch desc) = 1
                 order by ${key.join(', ')}) to ${out} (format parquet, compression zstd)`
            );
          }
        })
      );
      return {
        workload: this.name,
        unit: 'rows',
        amount: rows,
        strataMs,
        baselineMs,
        baseline: 'DuckDB, same SQL, local files',
        ratio: baselineMs / strataMs,
        peakRssMb: peakRssMb(),
      };
    } finally {
      await runtime.stop();
    }
  },
};
