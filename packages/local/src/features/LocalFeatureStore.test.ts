import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { LocalFeatureStore } from './LocalFeatureStore.js';

let lake: LocalLake;
let featureStore: LocalFeatureStore;

const record = (id: string, spent: number, eventTime: string) => ({
  customer_id: id,
  total_spent: spent,
  event_time: eventTime,
});

beforeAll(async () => {
  lake = await startLocalLake();
  featureStore = new LocalFeatureStore({
    store: lake.store,
    onlinePath: join(lake.dir, 'online.duckdb'),
    recordIdentifier: 'customer_id',
    eventTime: 'event_time',
  });
});

afterAll(async () => {
  await featureStore?.close();
  await lake?.stop();
});

describe('Class: LocalFeatureStore', () => {
  describe('Method: putRecords', () => {
    it('writes the offline store layout once per batch, however often the batch is retried', async () => {
      // Prepare
      const batch = [
        record('1', 10, '2026-02-03T04:05:06.000Z'),
        record('2', 20, '2026-02-03T04:05:06.000Z'),
      ];

      // Act
      await featureStore.putRecords('group-a', batch);
      await featureStore.putRecords('group-a', batch);

      // Assess
      const keys = await keysUnder(lake.store, 'feature-store/group-a/');
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(
        /^feature-store\/group-a\/year=2026\/month=02\/day=03\/hour=04\/part-[0-9a-f]{16}\.parquet$/
      );
      expect(await featureStore.onlineCount('group-a')).toBe(2);
    });

    it('keeps the latest event time per record in the online store', async () => {
      // Prepare
      await featureStore.putRecords('group-b', [record('1', 10, '2026-02-03T00:00:00.000Z')]);
      await featureStore.putRecords('group-b', [record('1', 30, '2026-02-05T00:00:00.000Z')]);

      // Act: a late, older record must not replace the newer one
      await featureStore.putRecords('group-b', [record('1', 20, '2026-02-04T00:00:00.000Z')]);

      // Assess
      expect(await featureStore.onlineRecord('group-b', '1')).toEqual(
        record('1', 30, '2026-02-05T00:00:00.000Z')
      );
      expect(await featureStore.onlineCount('group-b')).toBe(1);
    });
  });
});
