import { join } from 'node:path';
import { DuckDbWarehouse } from '@strata/core/adapters';
import { configSchema, parseOrThrow, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { runExtract } from '@strata/core/extract';
import { seedTpch } from '@strata/local/warehouse';
import { startLocalLake } from '../../test/support/localLake.js';
import {
  type BenchOptions,
  type Measurement,
  medianMs,
  peakRssMb,
  type Workload,
} from '../workload.js';

/**
 * Extract of TPC-H lineitem from the local warehouse to bronze Parquet in local S3 (the unload
 * path: lineage columns, upload, checksums, manifest), against DuckDB's own
 * `COPY (query) TO parquet` of the same query to local disk.
 */
export const extractLineitem: Workload = {
  name: 'extract-lineitem',
  description: 'extract lineitem → bronze Parquet in S3 vs DuckDB COPY (query) TO parquet',
  async run(options: BenchOptions): Promise<Measurement> {
    const lake = await startLocalLake();
    try {
      const path = join(lake.dir, 'warehouse.duckdb');
      const rows = (await seedTpch({ path, scale: options.scale })).tables.lineitem ?? 0;
      const config = parseOrThrow(
        configSchema,
        {
          warehouse: { type: 'duckdb', path },
          queries: [
            {
              name: 'lineitem',
              sql: 'select * from snowflake_sample_data.tpch_sf1.lineitem',
              primary_key: ['L_ORDERKEY', 'L_LINENUMBER'],
              unload: true,
            },
          ],
        },
        'config'
      );
      let run = 0;
      const strataMs = await medianMs(options.repeat, async () => {
        const warehouse = new DuckDbWarehouse({ path, database: 'snowflake_sample_data' });
        try {
          await DuckDbEngine.use({}, (engine) =>
            runExtract(
              {
                entity: 'lineitem',
                runId: `bench-${run++}`,
                runDate: '2026-01-01',
                runStartedAt: '2026-01-01T00:00:00Z',
              },
              { store: lake.store, warehouse, engine, config, watermarks: lake.watermarks }
            )
          );
        } finally {
          await warehouse.close();
        }
      });
      const baselineMs = await medianMs(options.repeat, () =>
        DuckDbEngine.use({}, async (engine) => {
          await engine.run(`attach ${quoteLiteral(path)} as snowflake_sample_data (read_only)`);
          await engine.run(
            `copy (select * from snowflake_sample_data.tpch_sf1.lineitem) to ${quoteLiteral(join(lake.dir, 'baseline.parquet'))} (format parquet, compression zstd)`
          );
        })
      );
      return {
        workload: this.name,
        unit: 'rows',
        amount: rows,
        strataMs,
        baselineMs,
        baseline: 'DuckDB COPY (query) TO parquet',
        ratio: baselineMs / strataMs,
        target: 0.5,
        peakRssMb: peakRssMb(),
      };
    } finally {
      await lake.stop();
    }
  },
};
