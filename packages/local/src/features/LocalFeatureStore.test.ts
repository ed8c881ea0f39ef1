import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { loadFeatureContract } from '@strata/core/feature-ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { LocalFeatureStore, localOfflineRoot } from './LocalFeatureStore.js';

let lake: LocalLake;
let featureStore: LocalFeatureStore;

/** A record of gold ml_features' contract. */
const record = (id: number, spent: number, eventTime: string) => ({
  customer_id: id,
  order_count: 2,
  total_spent: spent,
  avg_order_value: spent / 2,
  last_order_date: null,
  nation: 'FRANCE',
  region: 'EUROPE',
  market_segment: 'BUILDING',
  event_time: eventTime,
});

/** Every offline-store file of a group, read as one relation (what Athena's table covers). */
const offlineStore = async (group: string) => {
  const keys = await keysUnder(lake.store, localOfflineRoot(group));
  const files = await Promise.all(
    keys.map(async (key, i) => {
      const local = join(lake.dir, `${group}-${i}.parquet`);
      await lake.store.download(key, local);
      return quoteLiteral(local);
    })
  );
  return { keys, relation: `read_parquet([${files.join(', ')}])` };
};

beforeAll(async () => {
  lake = await startLocalLake();
  featureStore = new LocalFeatureStore({
    store: lake.store,
    onlinePath: join(lake.dir, 'online.duckdb'),
    contract: await loadFeatureContract(),
  });
});

afterAll(async () => {
  await featureStore?.close();
  await lake?.stop();
});

describe('Class: LocalFeatureStore', () => {
  describe('Method: putRecords', () => {
    it("writes SageMaker's offline layout and Parquet schema once per batch, however often it is retried", async () => {
      // Prepare
      const batch = [
        record(1, 10, '2026-02-03T04:05:06.000Z'),
        record(2, 20, '2026-02-03T04:05:06.000Z'),
      ];

      // Act
      const first = await featureStore.putRecords('group-a', batch);
      await featureStore.putRecords('group-a', batch);

      // Assess
      expect(first).toEqual({ written: 2, retried: 0, failed: [] });
      const { keys, relation } = await offlineStore('group-a');
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(
        /^feature-store\/000000000000\/sagemaker\/us-east-1\/offline-store\/group-a-\d+\/data\/year=2026\/month=02\/day=03\/hour=04\/20260203T040506Z_[0-9a-f]{16}\.parquet$/
      );
      const columns = await DuckDbEngine.use({}, (engine) =>
        engine.all(`select column_name, column_type from (describe select * from ${relation})`)
      );
      expect(columns.map((c) => `${c.column_name} ${c.column_type}`)).toEqual([
        'customer_id BIGINT',
        'order_count BIGINT',
        'total_spent DOUBLE',
        'avg_order_value DOUBLE',
        'last_order_date VARCHAR',
        'nation VARCHAR',
        'region VARCHAR',
        'market_segment VARCHAR',
        'event_time VARCHAR',
        'write_time TIMESTAMP',
        'api_invocation_time TIMESTAMP',
        'is_deleted BOOLEAN',
      ]);
      expect(await featureStore.onlineCount('group-a')).toBe(2);
    });

    it('keeps the latest event time per record online, with typed values', async () => {
      // Prepare
      await featureStore.putRecords('group-b', [record(1, 10, '2026-02-03T00:00:00.000Z')]);
      await featureStore.putRecords('group-b', [record(1, 30, '2026-02-05T00:00:00.000Z')]);

      // Act: a late, older record must not replace the newer one
      await featureStore.putRecords('group-b', [record(1, 20, '2026-02-04T00:00:00.000Z')]);

      // Assess
      expect(await featureStore.onlineRecord('group-b', '1')).toEqual(
        record(1, 30, '2026-02-05T00:00:00.000Z')
      );
      expect(await featureStore.onlineCount('group-b')).toBe(1);
    });

    it('refuses a record that breaks the feature definitions, naming the feature, and writes the rest', async () => {
      // Prepare
      const broken = { ...record(2, 5, '2026-02-03T00:00:00.000Z'), order_count: 'two' };

      // Act
      const result = await featureStore.putRecords('group-c', [
        record(1, 10, '2026-02-03T00:00:00.000Z'),
        broken,
      ]);

      // Assess
      expect(result).toEqual({
        written: 1,
        retried: 0,
        failed: [
          {
            record: broken,
            error: { name: 'ValidationError', message: expect.stringMatching(/^order_count: /) },
          },
        ],
      });
      expect(await featureStore.onlineRecord('group-c', '2')).toBeUndefined();
    });

    it("deletes a record as SageMaker's SoftDelete does: gone online, a marker row offline", async () => {
      // Prepare
      await featureStore.putRecords('group-e', [
        record(1, 10, '2026-02-03T00:00:00.000Z'),
        record(2, 20, '2026-02-03T00:00:00.000Z'),
      ]);

      // Act
      const result = await featureStore.deleteRecords('group-e', [
        { recordId: '2', eventTime: '2026-02-04T00:00:00.000Z' },
      ]);

      // Assess
      expect(result).toEqual({ deleted: 1, retried: 0, failed: [] });
      expect(await featureStore.onlineRecord('group-e', '2')).toBeUndefined();
      expect(await featureStore.onlineCount('group-e')).toBe(1);
      const { relation } = await offlineStore('group-e');
      const marker = await DuckDbEngine.use({}, (engine) =>
        engine.all(
          `select customer_id, order_count, nation, event_time, is_deleted from ${relation} where is_deleted`
        )
      );
      expect(marker).toEqual([
        {
          customer_id: '2',
          order_count: null,
          nation: null,
          event_time: '2026-02-04T00:00:00.000Z',
          is_deleted: true,
        },
      ]);
    });

    it('answers the training query from the offline store as the online store holds the records', async () => {
      // Prepare: customer 1 twice (a later run changed it), customer 2 once, customer 3 deleted
      await featureStore.putRecords('group-d', [
        record(1, 10, '2026-02-03T00:00:00.000Z'),
        record(2, 20, '2026-02-03T00:00:00.000Z'),
        record(3, 30, '2026-02-03T00:00:00.000Z'),
      ]);
      await featureStore.putRecords('group-d', [record(1, 15, '2026-02-04T09:00:00.000Z')]);
      await featureStore.deleteRecords('group-d', [
        { recordId: '3', eventTime: '2026-02-04T09:00:00.000Z' },
      ]);
      const query = await readFile(
        new URL('../../../core/src/models/training/customer_features.sql', import.meta.url),
        'utf8'
      );
      const { relation } = await offlineStore('group-d');

      // Act
      const training = await DuckDbEngine.use({}, async (engine) => {
        await engine.run(`create view offline_store as select * from ${relation}`);
        return engine.all(`select to_json(t)::varchar as row from (${query}) as t`);
      });

      // Assess
      const online = await Promise.all(
        ['1', '2'].map((id) => featureStore.onlineRecord('group-d', id))
      );
      expect(training.map((t) => JSON.parse(String(t.row)))).toEqual(online);
    });
  });
});
