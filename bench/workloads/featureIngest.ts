import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '@strata/core/adapters';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { loadFeatureContract, runFeatureIngest } from '@strata/core/feature-ingest';
import { Lake } from '@strata/core/lake';
import type { DeadLetter, DeadLetterQueue } from '@strata/core/ports';
import { LocalFeatureStore } from '@strata/local/features';
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '@strata/local/s3';
import {
  type BenchOptions,
  type Measurement,
  medianMs,
  peakRssMb,
  type Workload,
} from '../workload.js';

/** Customers in the bench's gold ml_features: TPC-H's 150,000 per unit of scale, at least 10,000. */
const recordsAt = (scale: number) => Math.max(10_000, Math.round(150_000 * scale));

const BUCKET = 'bench-lake';

/** A model-shaped gold ml_features of `records` customers, written by DuckDB. */
const goldSql = (records: number, out: string) => `copy (
  select
    k::bigint as customer_id,
    (k % 37)::bigint as order_count,
    (k % 1000) * 10.5 as total_spent,
    (k % 1000) * 10.5 / ((k % 37) + 1) as avg_order_value,
    case when k % 3 = 0 then null else strftime(date '1998-08-02' - (k % 90)::int, '%Y-%m-%d') end as last_order_date,
    'NATION_' || (k % 25) as nation,
    'REGION_' || (k % 5) as region,
    ['BUILDING', 'MACHINERY', 'AUTOMOBILE', 'HOUSEHOLD', 'FURNITURE'][(k % 5) + 1] as market_segment
  from range(1, ${records + 1}) as t(k)
) to ${quoteLiteral(out)} (format parquet)`;

const noDeadLetters: DeadLetterQueue = {
  send: async (letters: readonly DeadLetter[]) => {
    if (letters.length > 0) throw new Error(`${letters.length} record(s) failed in the bench`);
  },
};

const settings = {
  recordsPerBatch: 500,
  recordsPerRange: 20_000,
  maxFailedShare: 0,
  maxDeletedShare: 0,
};

/**
 * feature-ingest into the local store on s3rver, against DuckDB writing the same records to one
 * Parquet file (the least any store must do). Each timed run ingests into a new feature group,
 * so every record is new; a second line times a run in which none changed (planning only).
 */
export const featureIngest: Workload = {
  name: 'feature-ingest',
  description: 'gold ml_features into the local feature store (online + offline), every record new',
  async setup(options: BenchOptions) {
    const s3 = await LocalS3.start({ directory: join(options.dir, 's3'), buckets: [BUCKET] });
    try {
      const local = join(options.dir, 'ml_features.parquet');
      await DuckDbEngine.use({}, (engine) => engine.run(goldSql(recordsAt(options.scale), local)));
      await storeOn(s3).upload(Lake.goldModel('ml_features'), local);
    } finally {
      await s3.stop();
    }
  },
  async run(options: BenchOptions): Promise<Measurement[]> {
    const records = recordsAt(options.scale);
    const s3 = await LocalS3.start({ directory: join(options.dir, 's3'), buckets: [BUCKET] });
    const store = storeOn(s3);
    const contract = await loadFeatureContract();
    const sink = new LocalFeatureStore({
      store,
      onlinePath: join(options.dir, 'online.duckdb'),
      contract,
    });
    let run = 0;
    const ingest = (group: string) =>
      DuckDbEngine.use({ threads: 1 }, (engine) =>
        runFeatureIngest(
          { runId: `bench-${run++}`, runStartedAt: '2026-03-01T00:00:00Z' },
          {
            store,
            engine,
            sink,
            deadLetters: noDeadLetters,
            featureGroup: group,
            contract,
            settings,
          }
        )
      );
    try {
      let groups = 0;
      const strataMs = await medianMs(options.repeat, async () => {
        const result = await ingest(`bench-${groups++}`);
        if (result.records !== records) throw new Error(`sent ${result.records} of ${records}`);
      });
      const unchangedMs = await medianMs(options.repeat, async () => {
        const result = await ingest('bench-0');
        if (result.unchanged !== records) throw new Error(`${result.records} sent again`);
      });
      const gold = join(options.dir, 'ml_features.parquet');
      let copies = 0;
      const baselineMs = await medianMs(options.repeat, () =>
        DuckDbEngine.use({ threads: 1 }, (engine) =>
          engine.run(
            `copy (select * from read_parquet(${quoteLiteral(gold)})) to ${quoteLiteral(join(options.dir, `copy-${copies++}.parquet`))} (format parquet, compression zstd)`
          )
        )
      );
      const ratio = (ms: number) => baselineMs / ms;
      return [
        {
          workload: this.name,
          unit: 'records',
          amount: records,
          strataMs,
          baselineMs,
          baseline: 'DuckDB COPY of the same records to one local Parquet file',
          baselineName: 'DuckDB',
          ratio: ratio(strataMs),
          peakRssMb: peakRssMb(),
          notes: `plan + ranges of 20,000 + finish, batches of 500, offline Parquet on s3rver + online DuckDB upsert; ${Math.round(records / (strataMs / 1000)).toLocaleString('en-US')} records/s`,
        },
        {
          workload: `${this.name}-unchanged`,
          unit: 'records',
          amount: records,
          strataMs: unchangedMs,
          baselineMs,
          baseline: 'DuckDB COPY of the same records to one local Parquet file',
          baselineName: 'DuckDB',
          ratio: ratio(unchangedMs),
          peakRssMb: peakRssMb(),
          notes: 'a run in which no record changed: hashing and comparing only',
        },
      ];
    } finally {
      await sink.close();
      await s3.stop();
    }
  },
};

const storeOn = (s3: LocalS3) =>
  new S3ObjectStore({
    bucket: BUCKET,
    client: new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
    }),
  });
