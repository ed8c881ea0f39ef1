import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAll, lakeArnOf } from '../scripts/check-aws/index.js';
import { extractPlatform } from '../scripts/check-aws/platform.js';
import { type RenderedStacks, renderStacks } from '../scripts/check-aws/render.js';
import { s3AccessFindings } from '../scripts/check-aws/s3Access.js';
import { type SmokeRun, smokeRun } from '../scripts/check-aws/smoke.js';
import { typecheckStacks } from '../scripts/check-aws/typecheck.js';
import { LAMBDAS, type LambdaName } from '../stacks/lambdas.js';

const root = new URL('../', import.meta.url).pathname;
/**
 * A guard against a hang, not a timing: tsc over SST's platform, and bundling and running every
 * function, take minutes on a busy 2-core machine, past vitest's 120 s.
 */
const HANG_GUARD_MS = 600_000;
let out = '';
let bundled: Awaited<ReturnType<typeof bundleAll>>;
let stacks: RenderedStacks;
let smoke: SmokeRun;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  out = await mkdtemp(join(tmpdir(), 'strata-bundles-'));
  bundled = await bundleAll(out);
  stacks = await renderStacks(root, 'dev');
  smoke = await smokeRun(bundled.bundles);
}, HANG_GUARD_MS);

/** The rendered policies with `change` applied to the statements of one function. */
const policiesWith = (
  fn: string,
  change: (statement: RenderedStacks['policies'][number]['statements'][number]) => void
) =>
  stacks.policies.map((policy) => {
    const copy = structuredClone(policy);
    if (copy.owner === `function:${fn}`) copy.statements.forEach(change);
    return copy;
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
      // Reconcile rewrites a widened column in the parts that hold it narrower.
      Reconcile: ['@duckdb/node-api'],
      Extract: ['@duckdb/node-api', 'snowflake-sdk'],
    } satisfies Partial<Record<LambdaName, string[]>>);
  });

  it('runs every bundle in the pipeline and a backfill on the local lake', () => {
    // Assess
    expect(smoke.findings).toEqual([]);
  });
});

describe("check:aws: each bundle's S3 requests against its rendered policy", () => {
  it('records what each function asked S3, and finds every request allowed', () => {
    // Act
    const findings = s3AccessFindings(smoke.s3Requests, stacks.policies, lakeArnOf(stacks));

    // Assess
    expect(findings).toEqual([]);
    const asked = new Set(smoke.s3Requests.map((r) => `${r.fn} ${r.action}`));
    expect([...asked]).toEqual(
      expect.arrayContaining([
        'HealthCheck s3:PutObject',
        'HealthCheck s3:DeleteObject',
        'FeatureIngest s3:PutObject',
        'FlattenBatch s3:GetObject',
        'Extract s3:ListBucket',
      ])
    );
    expect(smoke.s3Requests.every((r) => r.status !== undefined)).toBe(true);
  });

  it('finds a write under a prefix the policy does not grant (the _features/ grant removed)', () => {
    // Prepare
    const policies = policiesWith('FeatureIngest', (statement) => {
      statement.Resource = [statement.Resource]
        .flat()
        .filter((resource) => !resource.endsWith('/_features/*'));
    });

    // Act
    const findings = s3AccessFindings(smoke.s3Requests, policies, lakeArnOf(stacks));

    // Assess
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^FeatureIngest: s3:PutObject on _features\/ is not allowed by its rendered policy \(\d+ requests?, e\.g\. _features\/.+\)$/
        ),
      ])
    );
  });

  it('finds a read of a missing key the function may not list: AWS says 403, not 404', () => {
    // Prepare: FeatureIngest keeps reading and writing _features/, but may no longer list it.
    const policies = policiesWith('FeatureIngest', (statement) => {
      const like = statement.Condition?.StringLike;
      if (like?.['s3:prefix']) {
        like['s3:prefix'] = [like['s3:prefix']].flat().filter((p) => p !== '_features/*');
      }
    });
    const missing = smoke.s3Requests.filter(
      (r) => r.fn === 'FeatureIngest' && r.action === 's3:GetObject' && r.status === 404
    );

    // Act
    const findings = s3AccessFindings(smoke.s3Requests, policies, lakeArnOf(stacks));

    // Assess
    expect(missing.length).toBeGreaterThan(0);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^FeatureIngest: reads missing keys under _features\/ as absent, but may not list them/
        ),
      ])
    );
  });
});
