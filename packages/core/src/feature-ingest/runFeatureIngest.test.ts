import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { Lake } from '../lake/index.js';
import type { FeatureRecord, FeatureSink } from '../ports/index.js';
import { runFeatureIngest } from './runFeatureIngest.js';

let lake: LocalLake;

/** The feature store's port, recording what reaches it; `failOn` fails that call (1-based). */
class RecordingSink implements FeatureSink {
  readonly sent: FeatureRecord[] = [];
  #calls = 0;

  constructor(readonly failOn?: number) {}

  async putRecords(_group: string, records: readonly FeatureRecord[]) {
    this.#calls++;
    if (this.#calls === this.failOn) {
      throw Object.assign(new Error('throttled'), { name: 'Strata.Transient' });
    }
    this.sent.push(...records);
    return { written: records.length };
  }
}

/** Writes gold ml_features with these customers' order counts. */
const givenFeatures = async (orders: Record<number, number>) => {
  const rows = Object.entries(orders)
    .map(([id, count]) => `('${id}', ${count}, ${count * 10.5})`)
    .join(', ');
  const local = join(lake.dir, `ml_features-${Date.now()}.parquet`);
  await DuckDbEngine.use({}, (engine) =>
    engine.run(
      `copy (select customer_id, order_count::bigint as order_count, total_spent, 9007199254740993::bigint as big from (values ${rows}) as t(customer_id, order_count, total_spent)) to ${quoteLiteral(local)} (format parquet)`
    )
  );
  await lake.store.upload(Lake.goldModel('ml_features'), local);
};

const ingest = (runId: string, group: string, sink: FeatureSink) =>
  DuckDbEngine.use({}, (engine) =>
    runFeatureIngest(
      { runId, runStartedAt: '2026-03-01T00:00:00Z' },
      { store: lake.store, engine, sink, featureGroup: group, batchSize: 2 }
    )
  );

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: runFeatureIngest', () => {
  it('sends every record once, then only those whose features changed', async () => {
    // Prepare
    const [first, second, third] = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
    await givenFeatures({ 1: 1, 2: 2, 3: 3 });

    // Act
    const one = await ingest('run-1', 'changes', first);
    const two = await ingest('run-2', 'changes', second);
    await givenFeatures({ 1: 1, 2: 5, 3: 3, 4: 1 });
    const three = await ingest('run-3', 'changes', third);

    // Assess
    expect([one, two, three].map(({ records, unchanged }) => [records, unchanged])).toEqual([
      [3, 0],
      [0, 3],
      [2, 2],
    ]);
    // Integers as numbers (BIGINT ones too), one past 2^53 with its digits
    expect(third.sent).toEqual([
      {
        customer_id: '2',
        order_count: 5,
        total_spent: 52.5,
        big: '9007199254740993',
        event_time: '2026-03-01T00:00:00.000Z',
      },
      expect.objectContaining({ customer_id: '4', order_count: 1 }),
    ]);
  });

  it('sends no record twice when a failed run is retried', async () => {
    // Prepare: the second batch of three fails once
    const failing = new RecordingSink(2);
    const retry = new RecordingSink();
    await givenFeatures({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 });

    // Act
    const attempt = ingest('run-1', 'retried', failing);
    await expect(attempt).rejects.toMatchObject({ name: 'Strata.Transient' });
    const retried = await ingest('run-1', 'retried', retry);

    // Assess
    expect(retried.records).toBe(3);
    const ids = [...failing.sent, ...retry.sent].map((record) => record.customer_id);
    expect(ids).toEqual(['1', '2', '3', '4', '5']);
  });
});
