import { DynamoDbCircuitBreaker } from '@strata/core/adapters';
import { ErrorName } from '@strata/core/errors';
import type { LocalFunction } from '@strata/local/asl';
import { BREAKER_TABLE } from '@strata/local/runtime';
import { describe, expect, it } from 'vitest';
import { keysUnder } from './support/lake.js';
import { useEmbeddedRuntime } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);

/** Counts the invocations of each named function while running the real one. */
const counting = (names: string[]) => {
  const calls: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  const overrides = Object.fromEntries(
    names.map((name) => [
      name,
      (real: LocalFunction): LocalFunction =>
        (event, functionName) => {
          calls[name] = (calls[name] ?? 0) + 1;
          return real(event, functionName);
        },
    ])
  );
  return { calls, overrides };
};

const healthAlertsOf = (executionName: string) =>
  suite.runtime.alerts.filter(
    (alert) =>
      alert.subject === 'Strata health check failed: pipeline not started' &&
      alert.message.includes(`Execution ${executionName} `)
  );

describe('pipeline: the HealthCheck state', () => {
  it('stops a run whose warehouse does not answer before any stage, with one alert naming it', async () => {
    // Prepare
    const config = await suite.runtime.defaultConfig();
    const warehouse = config.warehouse as { path: string };
    warehouse.path = `${suite.dir}/gone/warehouse.duckdb`;
    await suite.runtime.putConfig(config);
    const { calls, overrides } = counting(['HealthCheck', 'PlanRun', 'ExtractEntity']);

    // Act
    const outcome = await suite.runtime.execute('pipeline', {
      executionName: 'unhealthy-warehouse',
      functionOverrides: overrides,
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: ErrorName.Terminal });
    expect(calls).toEqual({ HealthCheck: 1, PlanRun: 0, ExtractEntity: 0 });
    const [alert, ...more] = healthAlertsOf('unhealthy-warehouse');
    expect(more).toEqual([]);
    expect(alert?.message).toContain('ok     lake: config read, probe object written and deleted');
    expect(alert?.message).toMatch(/^FAILED warehouse: .*gone\/warehouse\.duckdb/m);
    expect(alert?.message).toMatch(/^ok {5}feature group: /m);
    expect(await keysUnder(suite.runtime.store, 'bronze/')).toEqual([]);
    expect(await keysUnder(suite.runtime.store, '_health/')).toEqual([]);
  });

  it("fails the warehouse check at once while the warehouse's breaker is open from earlier invocations", async () => {
    // Prepare: earlier invocations (one instance each) saw the warehouse fail five times.
    for (let i = 0; i < 5; i += 1) {
      const earlier = new DynamoDbCircuitBreaker({
        tableName: BREAKER_TABLE,
        circuit: 'warehouse',
        settings: { failureThreshold: 5, cooldownSeconds: 120 },
        client: suite.runtime.dynamo.client,
      });
      await (await earlier.admit()).failed();
    }
    const { calls, overrides } = counting(['HealthCheck', 'PlanRun']);

    // Act
    const outcome = await suite.runtime.execute('pipeline', {
      executionName: 'breaker-open',
      functionOverrides: overrides,
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: ErrorName.Terminal });
    expect(calls).toEqual({ HealthCheck: 1, PlanRun: 0 });
    const [alert] = healthAlertsOf('breaker-open');
    expect(alert?.message).toMatch(
      /^FAILED warehouse: circuit breaker warehouse: open since \S+ after 5 consecutive failures; next probe after \S+$/m
    );
  });
});
