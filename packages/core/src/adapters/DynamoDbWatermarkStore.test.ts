import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { DynamoDbWatermarkStore } from './DynamoDbWatermarkStore.js';

let dynamo: LocalDynamoDb;
let store: DynamoDbWatermarkStore;

beforeAll(async () => {
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'watermarks', key: 'query' }] });
  store = new DynamoDbWatermarkStore({ tableName: 'watermarks', client: dynamo.client });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('Class: DynamoDbWatermarkStore (on dynalite)', () => {
  it('creates a state once and bumps its version on every conditional write', async () => {
    // Prepare
    const state = { query: 'orders', value: '2026-01-01', tieKeys: ['["1"]'], version: 0 };

    // Act
    await store.put(state, 0);
    await store.put({ ...state, value: '2026-01-02', version: 1 }, 1);

    // Assess
    expect(await store.get('orders')).toEqual({ ...state, value: '2026-01-02', version: 2 });
  });

  it('rejects a write based on a version someone else already moved past', async () => {
    // Prepare
    await store.put({ query: 'lineitem', tieKeys: [], version: 0 }, 0);
    await store.put({ query: 'lineitem', tieKeys: [], value: 'a', version: 1 }, 1);

    // Act
    const stale = store.put({ query: 'lineitem', tieKeys: [], value: 'b', version: 1 }, 1);
    const duplicateCreate = store.put({ query: 'lineitem', tieKeys: [], version: 0 }, 0);

    // Assess
    await expect(stale).rejects.toMatchObject({ name: ErrorName.Transient });
    await expect(duplicateCreate).rejects.toMatchObject({ name: ErrorName.Transient });
    expect((await store.get('lineitem'))?.value).toBe('a');
  });

  it('returns undefined for a query it has never seen', async () => {
    // Act
    const state = await store.get('never');

    // Assess
    expect(state).toBeUndefined();
  });
});
