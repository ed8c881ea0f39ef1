import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { type SilverManifest, silverFileKey, silverManifestKey } from '../lake/index.js';
import { givenDimensions } from '../models/gold/modelTestSupport.js';
import type { QualityReport } from '../quality/index.js';
import { runSilverToGold } from './runSilverToGold.js';

let lake: LocalLake;

const NOW = new Date('2026-03-10T00:00:00Z');

const GOOD_LINES = '(100, 1, 2, 100.00, 0.10, 1), (101, 1, 1, 50.00, 0.00, 2)';

/** Writes the silver tables the gold models read, with `orders` and line items as given. */
const givenSilver = async (orders: string, lines = GOOD_LINES) => {
  await DuckDbEngine.use({}, async (engine) => {
    await givenDimensions(engine);
    await engine.run(`
      alter table silver_customer add column _deleted_at timestamptz;
      insert into silver_orders values ${orders};
      insert into silver_lineitem values ${lines};`);
    for (const entity of ['region', 'nation', 'customer', 'part', 'orders', 'lineitem']) {
      const local = join(lake.dir, `silver-${entity}.parquet`);
      await engine.run(
        `copy silver_${entity} to ${quoteLiteral(local)} (format parquet, compression zstd)`
      );
      const key = silverFileKey(entity, 'given', 0);
      await lake.store.upload(key, local);
      const manifest: SilverManifest = {
        table: entity,
        runId: 'given',
        partitioning: null,
        columns: [],
        files: [{ key, partition: null, rows: 0, deleted: 0, bytes: 0 }],
      };
      await lake.store.put(silverManifestKey(entity), JSON.stringify(manifest));
    }
  });
};

const build = (runId: string) =>
  DuckDbEngine.use({}, (engine) =>
    runSilverToGold({ runId }, { store: lake.store, engine, now: () => NOW })
  );

const readJson = async <T>(key: string) =>
  JSON.parse(new TextDecoder().decode(await lake.store.get(key))) as T;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: runSilverToGold', () => {
  it("publishes every model with its quality report when each model's rules pass", async () => {
    // Prepare
    await givenSilver("(100, 10, 300.00, date '2026-03-01'), (101, 20, 50.00, date '2026-03-02')");

    // Act
    const result = await build('run-good');

    // Assess
    expect(result.models.map(({ model, rows, warnings }) => ({ model, rows, warnings }))).toEqual([
      { model: 'sales_summary', rows: 2, warnings: 0 },
      { model: 'customer_analytics', rows: 4, warnings: 0 },
      { model: 'ml_features', rows: 4, warnings: 0 },
    ]);
    const report = await readJson<QualityReport>('_quality/sales_summary/run-good.json');
    expect(report).toMatchObject({ dataset: 'sales_summary', rows: 2, passed: true });
    expect(report.rules.length).toBeGreaterThan(3);
    expect(await keysUnder(lake.store, 'gold/')).toEqual([
      'gold/customer_analytics/data.parquet',
      'gold/ml_features/data.parquet',
      'gold/sales_summary/data.parquet',
    ]);
  });

  it('stops with Strata.QualityFailed on an error rule, quarantines the rows that broke it, and publishes no model', async () => {
    // Prepare: a line whose price is negative breaks sales_summary's range(gross_sales: 0..)
    const gold = [
      'gold/sales_summary/data.parquet',
      'gold/customer_analytics/data.parquet',
      'gold/ml_features/data.parquet',
    ];
    const before = await Promise.all(gold.map((key) => lake.store.get(key)));
    await givenSilver(
      "(100, 10, 300.00, date '2026-03-01'), (101, 20, 50.00, date '2026-03-02')",
      '(100, 1, 2, 100.00, 0.10, 1), (101, 1, 1, -50.00, 0.00, 2)'
    );

    // Act
    const attempt = build('run-bad');

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'Strata.QualityFailed',
      message: expect.stringMatching(
        /^silver-to-gold sales_summary: .*range\(gross_sales: 0\.\.\) failed \(1 row\(s\)\)/
      ),
    });
    const report = await readJson<QualityReport>('_quality/sales_summary/run-bad.json');
    expect(report.passed).toBe(false);
    expect(await keysUnder(lake.store, 'quarantine/gold_sales_summary/')).toEqual([
      'quarantine/gold_sales_summary/run=run-bad/rejected.parquet',
    ]);
    expect(await Promise.all(gold.map((key) => lake.store.get(key)))).toEqual(before);
  });
});
