import { DuckDbWarehouse, DynamoDbCircuitBreaker } from '@strata/core/adapters';
import { ErrorName, TransientError } from '@strata/core/errors';
import type { RowBatch, Warehouse } from '@strata/core/ports';
import { BREAKER_TABLE, lambdaContext } from '@strata/local/runtime';
import { describe, expect, it } from 'vitest';
import type { Platform } from '../functions/_shared/platform.js';
import { createHandler } from '../functions/extract.js';
import { useEmbeddedRuntime } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);

/** The warehouse as Extract sees it: up (the seeded DuckDB) or dropping every connection. */
const warehouseSwitch = () => {
  const state = { up: false, failedCalls: 0 };
  const down: Warehouse = {
    // biome-ignore lint/correctness/useYield: it fails before its first batch, as a dropped connection does
    async *query(): AsyncGenerator<RowBatch> {
      state.failedCalls += 1;
      throw new TransientError('warehouse: connect ECONNRESET');
    },
    close: async () => undefined,
  };
  const warehouse = async () =>
    state.up
      ? new DuckDbWarehouse({
          path: suite.runtime.warehousePath,
          database: 'snowflake_sample_data',
        })
      : down;
  return { state, warehouse };
};

describe('Extract behind the warehouse breaker, across invocations', () => {
  it('opens after five failed invocations, refuses the sixth at once, probes after the cool-down and closes', async () => {
    // Prepare: every invocation is a cold start with its own platform and breaker instance.
    let clock = Date.parse('2026-12-07T06:00:00Z');
    const { state, warehouse } = warehouseSwitch();
    const { runtime } = suite;
    const platform = (): Platform => ({
      store: runtime.store,
      watermarks: runtime.watermarks,
      ledger: runtime.ledger,
      catalog: runtime.catalog,
      warehouse,
      featureSink: () => runtime.featureStore,
      featureDeadLetters: () => {
        throw new Error('Extract sends no feature records');
      },
      featureGroup: (config) => config.feature_group,
      featureGroups: () => {
        throw new Error('Extract does not describe feature groups');
      },
      notifier: () => {
        throw new Error('Extract does not alert');
      },
      breaker: (circuit, settings) =>
        new DynamoDbCircuitBreaker({
          tableName: BREAKER_TABLE,
          circuit,
          settings,
          client: runtime.dynamo.client,
          now: () => clock,
        }),
    });
    const invoke = (runId: string) =>
      createHandler(platform)(
        { entity: 'region', runId, runDate: '2026-12-07', runStartedAt: '2026-12-07T06:00:00Z' },
        lambdaContext('Extract')
      ).then(
        (result) => ({ ok: result as { rows: number } }),
        (error: Error) => ({ error })
      );

    // Act
    const failing = [];
    for (let i = 1; i <= 5; i += 1) failing.push(await invoke(`down-${i}`));
    const refused = await invoke('down-6');
    clock += 119_000;
    const stillRefused = await invoke('cooling');
    clock += 1_000;
    state.up = true;
    const probe = await invoke('probe');
    state.up = false;
    const afterClose = await invoke('closed-again');

    // Assess
    const reset = {
      name: ErrorName.Transient,
      message: 'extract region: warehouse: connect ECONNRESET',
    };
    for (const outcome of failing) expect(outcome).toMatchObject({ error: reset });
    for (const outcome of [refused, stillRefused]) {
      // Strata.Transient, so ExtractEntity's Retry waits and tries again.
      expect(outcome).toMatchObject({
        error: {
          name: ErrorName.Transient,
          message: expect.stringMatching(
            /circuit breaker warehouse: open since 2026-12-07T06:00:00\.000Z after 5 consecutive failures; next probe after 2026-12-07T06:02:00\.000Z/
          ),
        },
      });
    }
    expect(probe).toMatchObject({ ok: { rows: 5 } });
    // Closed again: the next invocation reaches the warehouse (and counts its failure afresh).
    expect(afterClose).toMatchObject({ error: reset });
    expect(state.failedCalls).toBe(6);
  });
});
