// Circuit breakers at the port boundary: decorators the handlers apply to the Warehouse and the
// FeatureSink they are given, so neither the adapters nor the stages know a breaker exists.
import type { StrataConfig } from '../config/index.js';
import { ErrorName } from '../errors/index.js';
import type {
  BreakerSettings,
  CircuitBreaker,
  FeatureSink,
  QueryOptions,
  RowBatch,
  Warehouse,
} from '../ports/index.js';

/**
 * The breaker settings a config asks for.
 *
 * @param config - the validated config
 */
export const breakerSettings = (config: StrataConfig): BreakerSettings => ({
  failureThreshold: config.circuit_breaker.failure_threshold,
  cooldownSeconds: config.circuit_breaker.cooldown_seconds,
});

/**
 * Whether an error is the dependency failing: only what a retry may fix. Bad SQL or a refused
 * credential is an answer, so it counts as the dependency being up.
 */
const isOutage = (error: unknown): boolean =>
  error instanceof Error && error.name === ErrorName.Transient;

/**
 * Runs one call through a breaker: refused at once while it is open, its outcome counted.
 *
 * @example
 * const rows = await guarded(breaker, () => fetchRows());
 * @param breaker - the dependency's breaker
 * @param call - the call to the dependency
 */
export const guarded = async <T>(breaker: CircuitBreaker, call: () => Promise<T>): Promise<T> => {
  const permit = await breaker.admit();
  let result: T;
  try {
    result = await call();
  } catch (error) {
    await (isOutage(error) ? permit.failed() : permit.succeeded());
    throw error;
  }
  await permit.succeeded();
  return result;
};

/**
 * A query's batches through the breaker, settled when the result ends: a connection lost
 * half-way is as much an outage as one refused at the start. A consumer that stops early got
 * its answer.
 */
async function* guardedQuery(
  breaker: CircuitBreaker,
  rows: () => AsyncIterable<RowBatch>
): AsyncGenerator<RowBatch> {
  const permit = await breaker.admit();
  let failure: unknown;
  try {
    yield* rows();
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await (isOutage(failure) ? permit.failed() : permit.succeeded());
  }
}

/**
 * The warehouse with its queries and unloads behind a breaker; closing is never refused.
 *
 * @example
 * const warehouse = guardWarehouse(await warehouseFor(config), breaker('warehouse', settings));
 * @param warehouse - the adapter
 * @param breaker - the warehouse's breaker
 */
export const guardWarehouse = (warehouse: Warehouse, breaker: CircuitBreaker): Warehouse => {
  const { unload } = warehouse;
  return {
    query: (sql: string, options: QueryOptions) =>
      guardedQuery(breaker, () => warehouse.query(sql, options)),
    ...(unload
      ? {
          unload: (sql, options) => guarded(breaker, () => unload.call(warehouse, sql, options)),
        }
      : {}),
    close: () => warehouse.close(),
  };
};

/**
 * The feature sink with every write behind a breaker.
 *
 * @example
 * const sink = guardFeatureSink(featureSink(), breaker('feature-store', settings));
 * @param sink - the adapter
 * @param breaker - the feature store's breaker
 */
export const guardFeatureSink = (sink: FeatureSink, breaker: CircuitBreaker): FeatureSink => ({
  putRecords: (featureGroup, records) =>
    guarded(breaker, () => sink.putRecords(featureGroup, records)),
  deleteRecords: (featureGroup, deletions) =>
    guarded(breaker, () => sink.deleteRecords(featureGroup, deletions)),
});
