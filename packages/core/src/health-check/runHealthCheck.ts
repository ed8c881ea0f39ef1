import { z } from 'zod';
import { loadConfig, type StrataConfig } from '../config/index.js';
import { BadInputError, TerminalError } from '../errors/index.js';
import { assertRunId } from '../lake/index.js';
import type { FeatureGroups, Notifier, ObjectStore, Warehouse } from '../ports/index.js';

export const healthCheckInputSchema = z.object({ executionName: z.string().min(1) });

export type HealthCheckInput = z.infer<typeof healthCheckInputSchema>;

/** Where the lake check writes its probe object, one per execution, and deletes it again. */
export const HEALTH_PREFIX = '_health/';

/** How long the warehouse may take to answer `select 1`. */
const WAREHOUSE_TIMEOUT_SECONDS = 30;

/** One dependency's verdict. */
export interface HealthCheckOutcome {
  check: 'lake' | 'warehouse' | 'feature group';
  healthy: boolean;
  detail: string;
}

export interface HealthCheckResult {
  checks: HealthCheckOutcome[];
}

export interface HealthCheckDeps {
  store: ObjectStore;
  /** The configured warehouse, behind its circuit breaker. */
  warehouse(config: StrataConfig): Promise<Warehouse>;
  featureGroups: FeatureGroups;
  /** The feature group FeatureIngest writes to. */
  featureGroup(config: StrataConfig): string;
  notifier: Notifier;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The verdict of `probe`: healthy with its detail, or unhealthy with what it threw. */
const verdict = async (
  check: HealthCheckOutcome['check'],
  probe: () => Promise<string>
): Promise<HealthCheckOutcome> => {
  try {
    return { check, healthy: true, detail: await probe() };
  } catch (error) {
    return { check, healthy: false, detail: messageOf(error) };
  }
};

/** The warehouse answers a trivial statement. */
const warehouseAnswers = async (warehouse: Warehouse): Promise<string> => {
  try {
    for await (const _ of warehouse.query('select 1 as ok', {
      batchSize: 1,
      timeoutSeconds: WAREHOUSE_TIMEOUT_SECONDS,
      queryTag: 'strata-health-check',
    })) {
      // The first answer is enough.
    }
    return 'answered select 1';
  } finally {
    await warehouse.close();
  }
};

/** The group takes records: created, and its offline store (if any) active. */
const featureGroupReady = async (groups: FeatureGroups, name: string): Promise<string> => {
  const group = await groups.describe(name);
  if (!group) throw new Error(`${name} does not exist`);
  const offline = group.offlineStoreStatus ?? 'Active';
  if (group.status !== 'Created' || offline !== 'Active') {
    const reason = group.reason ? ` (${group.reason})` : '';
    throw new Error(`${name} is ${group.status}, its offline store ${offline}${reason}`);
  }
  return `${name} is Created, its offline store ${offline}`;
};

/**
 * Checks, before a run starts, that what every stage needs is there: the lake readable (the
 * config) and writable (a probe object under `_health/`, deleted again), the warehouse
 * answering, the feature group created and active. When one is not, it alerts once, naming
 * each failed check, and throws `Strata.Terminal`: the run stops here instead of each stage
 * retrying against a dependency that is down.
 *
 * @example
 * await runHealthCheck({ executionName }, { store, warehouse, featureGroups, featureGroup, notifier });
 * @param input - the execution's name (the probe object's)
 * @param deps - the lake, warehouse, feature store control plane and alert topic
 */
export const runHealthCheck = async (
  input: HealthCheckInput,
  deps: HealthCheckDeps
): Promise<HealthCheckResult> => {
  const probeKey = `${HEALTH_PREFIX}${assertRunId(input.executionName)}`;
  let config: StrataConfig | undefined;
  let invalidConfig: BadInputError | undefined;
  const lake = await verdict('lake', async () => {
    config = await loadConfig(deps.store).catch((error: unknown) => {
      if (error instanceof BadInputError) invalidConfig = error;
      throw error;
    });
    await deps.store.put(probeKey, input.executionName, 'text/plain');
    await deps.store.delete([probeKey]);
    return 'config read, probe object written and deleted';
  });
  // A config that does not validate is the user's to fix, field by field, not a dependency down.
  if (invalidConfig) throw invalidConfig;
  const checks = [lake];
  if (config) {
    const found = config;
    checks.push(
      ...(await Promise.all([
        verdict('warehouse', async () => warehouseAnswers(await deps.warehouse(found))),
        verdict('feature group', () =>
          featureGroupReady(deps.featureGroups, deps.featureGroup(found))
        ),
      ]))
    );
  }
  const failed = checks.filter((check) => !check.healthy);
  if (failed.length === 0) return { checks };
  const summary = failed.map((check) => `${check.check}: ${check.detail}`).join('; ');
  await deps.notifier.notify(
    'Strata health check failed: pipeline not started',
    [
      `Execution ${input.executionName} stopped before its first stage: ${failed.length} of the pipeline's dependencies failed their health check.`,
      '',
      ...checks.map(
        (check) => `${check.healthy ? 'ok    ' : 'FAILED'} ${check.check}: ${check.detail}`
      ),
      '',
      'Nothing was extracted or written. Fix the failed dependency and start the pipeline again.',
    ].join('\n')
  );
  throw new TerminalError(`health check failed: ${summary}`);
};
