import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAll } from '../scripts/check-aws/index.js';
import { extractPlatform } from '../scripts/check-aws/platform.js';
import { smokeRun } from '../scripts/check-aws/smoke.js';
import { typecheckStacks } from '../scripts/check-aws/typecheck.js';
import { LAMBDAS, type LambdaName } from '../stacks/lambdas.js';

const root = new URL('../', import.meta.url).pathname;
/**
 * A guard against a hang, not a timing: tsc over SST's platform and eight bundles' runs take
 * minutes on a busy 2-core machine, past vitest's 120 s.
 */
const HANG_GUARD_MS = 600_000;
let out = '';
let bundled: Awaited<ReturnType<typeof bundleAll>>;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  out = await mkdtemp(join(tmpdir(), 'strata-bundles-'));
  bundled = await bundleAll(out);
});

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('check:aws: sst.config.ts and stacks/ against SST 4.17 platform types', () => {
  it(
    'type-checks, with no deprecated API and no path relative to the working directory',
    async () => {
      // Prepare
      await extractPlatform(root);

      // Act
      const findings = typecheckStacks(root);

      // Assess
      expect(findings).toEqual([]);
    },
    HANG_GUARD_MS
  );
});

describe('check:aws: every function bundled as SST 4.x bundles it', () => {
  it('bundles each function, installing native packages exactly where the bundle imports them', () => {
    // Assess
    expect(bundled.findings).toEqual([]);
    expect([...bundled.bundles.keys()].sort()).toEqual(Object.keys(LAMBDAS).sort());
    const installs = Object.fromEntries(
      Object.entries(LAMBDAS).map(([name, spec]) => [name, [...spec.install]])
    );
    // snowflake-sdk only where the warehouse is; nothing native where no DuckDB runs.
    expect(installs).toMatchObject({
      PlanRun: [],
      PlanBacklog: [],
      Reconcile: [],
      Extract: ['@duckdb/node-api', 'snowflake-sdk'],
    } satisfies Partial<Record<LambdaName, string[]>>);
  });

  it(
    'runs every bundle in the pipeline and a backfill on the local lake',
    async () => {
      // Act
      const findings = await smokeRun(bundled.bundles);

      // Assess
      expect(findings).toEqual([]);
    },
    HANG_GUARD_MS
  );
});
