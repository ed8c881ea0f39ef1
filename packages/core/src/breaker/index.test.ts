import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbCircuitBreaker } from '../adapters/DynamoDbCircuitBreaker.js';
import { BadInputError, CircuitOpenError, TransientError } from '../errors/index.js';
import type { FeatureSink, RowBatch, Warehouse } from '../ports/index.js';
import { guardFeatureSink, guardWarehouse } from './index.js';

let dynamo: LocalDynamoDb;

const breaker = (circuit: string) =>
  new DynamoDbCircuitBreaker({
    tableName: 'breakers',
    circuit,
    settings: { failureThreshold: 2, cooldownSeconds: 600 },
    client: dynamo.client,
  });

/** A warehouse whose every query fails with `error` after `rowsFirst` batches; counts queries. */
const failingWarehouse = (error: Error, rowsFirst = 0) => {
  const calls = { queries: 0 };
  const warehouse: Warehouse = {
    async *query(): AsyncGenerator<RowBatch> {
      calls.queries += 1;
      for (let i = 0; i < rowsFirst; i += 1) yield { columns: [], rows: [{ i }] };
      throw error;
    },
    close: async () => undefined,
  };
  return { warehouse, calls };
};

const drain = async (rows: AsyncIterable<RowBatch>) => {
  for await (const _ of rows) {
    // every batch
  }
};

beforeAll(async () => {
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'breakers', key: 'circuit' }] });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('guardWarehouse', () => {
  it('stops calling a warehouse that keeps failing transiently, before and during results', async () => {
    // Prepare
    const { warehouse, calls } = failingWarehouse(new TransientError('connection reset'), 1);

    // Act
    const outcomes = [];
    for (let i = 0; i < 4; i += 1) {
      // One handler invocation each: a fresh decorator and breaker on the shared table.
      const guarded = guardWarehouse(warehouse, breaker('warehouse-down'));
      outcomes.push(
        await drain(guarded.query('select 1', { batchSize: 1 })).catch((e: Error) => e)
      );
    }

    // Assess
    expect(calls.queries).toBe(2);
    expect(outcomes.slice(0, 2).map((e) => (e as Error).message)).toEqual([
      'connection reset',
      'connection reset',
    ]);
    for (const refused of outcomes.slice(2)) expect(refused).toBeInstanceOf(CircuitOpenError);
  });

  it('does not count an answer such as bad SQL as the warehouse being down', async () => {
    // Prepare
    const { warehouse, calls } = failingWarehouse(new BadInputError('syntax error'));

    // Act
    for (let i = 0; i < 4; i += 1) {
      const guarded = guardWarehouse(warehouse, breaker('warehouse-bad-sql'));
      await drain(guarded.query('selec 1', { batchSize: 1 })).catch(() => undefined);
    }

    // Assess
    expect(calls.queries).toBe(4);
  });

  it('counts a consumer that stops early as an answer', async () => {
    // Prepare
    const flaky = failingWarehouse(new TransientError('timeout'));
    const healthy: Warehouse = {
      async *query() {
        yield { columns: [], rows: [{ a: 1 }] };
        yield { columns: [], rows: [{ a: 2 }] };
      },
      close: async () => undefined,
    };
    await drain(
      guardWarehouse(flaky.warehouse, breaker('warehouse-early')).query('x', { batchSize: 1 })
    ).catch(() => undefined);

    // Act
    for await (const _ of guardWarehouse(healthy, breaker('warehouse-early')).query('x', {
      batchSize: 1,
    })) {
      break;
    }
    await drain(
      guardWarehouse(flaky.warehouse, breaker('warehouse-early')).query('x', { batchSize: 1 })
    ).catch(() => undefined);
    const third = await drain(
      guardWarehouse(flaky.warehouse, breaker('warehouse-early')).query('x', { batchSize: 1 })
    ).catch((e: Error) => e);

    // Assess: failure, success, failure, failure: only the last two are consecutive.
    expect(third).not.toBeInstanceOf(CircuitOpenError);
    expect(flaky.calls.queries).toBe(3);
  });
});

describe('guardFeatureSink', () => {
  it('refuses writes once the feature store failed the threshold of times in a row', async () => {
    // Prepare
    let calls = 0;
    const unavailable = async (): Promise<never> => {
      calls += 1;
      throw new TransientError('ThrottlingException');
    };
    const sink: FeatureSink = { putRecords: unavailable, deleteRecords: unavailable };

    // Act: a put and a delete fail, then a delete meets the open breaker
    const guarded = () => guardFeatureSink(sink, breaker('feature-store'));
    const errors = [
      await guarded()
        .putRecords('group', [{ id: '1' }])
        .catch((e: Error) => e),
      await guarded()
        .deleteRecords('group', [{ recordId: '1', eventTime: '2026-03-01T00:00:00Z' }])
        .catch((e: Error) => e),
      await guarded()
        .deleteRecords('group', [{ recordId: '2', eventTime: '2026-03-01T00:00:00Z' }])
        .catch((e: Error) => e),
    ];

    // Assess
    expect(calls).toBe(2);
    expect(errors[2]).toBeInstanceOf(CircuitOpenError);
  });
});
