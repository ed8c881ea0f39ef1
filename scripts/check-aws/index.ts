// `npm run check:aws`: what can be known offline about the first `sst deploy` and run.
//   1. SST's platform types (.sst/platform, from the installed sst binary) against sst.config.ts
//      and stacks/: type errors, deprecated APIs, relative file paths;
//   2. the stacks rendered under Pulumi's mocks (render.ts): least privilege in every policy,
//      logs, traces and alarms on every state machine and function, the lake's lifecycle, the
//      links sst-env.d.ts declares for the handlers;
//   3. deploy.yml deploys only what CI passed;
//   4. every function bundled as SST 4.x bundles it (bundle.ts), then loaded and run once
//      inside the embedded runtime's pipeline and backfill (smoke.ts), each S3 request it made
//      held to its rendered policy (s3Access.ts).
// Exits 1 with one line per finding.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAMBDAS, type LambdaName } from '../../stacks/lambdas.js';
import { type BuiltLambda, bundleLambda } from './bundle.js';
import { linkFindings } from './links.js';
import { extractPlatform } from './platform.js';
import { leastPrivilegeFindings, lifecycleFindings, observabilityFindings } from './policies.js';
import { ACCOUNT, functionName, REGION, type RenderedStacks, renderStacks } from './render.js';
import { s3AccessFindings } from './s3Access.js';
import { smokeRun } from './smoke.js';
import { type Finding, typecheckStacks } from './typecheck.js';
import { deployWorkflowFindings } from './workflows.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Our @pulumi/* pins must be the versions SST's platform deploys with. */
const pinsMatchPlatform = async (platform: Record<string, string>): Promise<Finding[]> => {
  const ours = (
    JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies;
  return ['@pulumi/aws', '@pulumi/pulumi'].flatMap((pkg) =>
    ours[pkg] === platform[pkg]?.replace(/^v/, '')
      ? []
      : [`package.json pins ${pkg}@${ours[pkg]}; sst's platform uses ${platform[pkg]}`]
  );
};

/**
 * Bundles every function in LAMBDAS into a temporary directory.
 *
 * @param out - where the bundles go
 */
export const bundleAll = async (
  out: string
): Promise<{ bundles: Map<LambdaName, BuiltLambda>; findings: Finding[] }> => {
  const bundles = new Map<LambdaName, BuiltLambda>();
  const findings: Finding[] = [];
  for (const [name, spec] of Object.entries(LAMBDAS) as [
    LambdaName,
    (typeof LAMBDAS)[LambdaName],
  ][]) {
    const built = await bundleLambda(root, out, name, spec);
    findings.push(...built.findings);
    if (built.findings.length === 0) bundles.set(name, built);
  }
  return { bundles, findings };
};

/** The rendered lake bucket's ARN, which the smoke run's local bucket stands for. */
export const lakeArnOf = (stacks: RenderedStacks): string => {
  const lake = stacks.resources.find((r) => r.type === 'aws:s3/bucket:Bucket' && r.name === 'Lake');
  if (!lake) throw new Error('check:aws: the stacks declare no bucket named Lake');
  return lake.arn;
};

const main = async () => {
  const findings: Finding[] = [];
  let ran = 0;
  findings.push(...(await pinsMatchPlatform(await extractPlatform(root))));
  findings.push(...typecheckStacks(root));
  // dev: a stage that must reach nothing of another stage's.
  const stage = 'dev';
  const stacks = await renderStacks(root, stage);
  findings.push(
    ...leastPrivilegeFindings(stacks.policies, { account: ACCOUNT, region: REGION, stage }),
    ...observabilityFindings(stacks, (name) => functionName(stage, name)),
    ...lifecycleFindings(stacks),
    ...linkFindings(root, stacks.links),
    ...(await deployWorkflowFindings(root))
  );
  // Its own directory: two checks at once (CI, a laptop) must not run each other's bundles.
  const out = await mkdtemp(join(tmpdir(), 'strata-check-aws-bundles-'));
  try {
    const { bundles, findings: built } = await bundleAll(out);
    const smoke = await smokeRun(bundles);
    findings.push(
      ...built,
      ...smoke.findings,
      ...s3AccessFindings(smoke.s3Requests, stacks.policies, lakeArnOf(stacks))
    );
    ran = bundles.size;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  for (const finding of findings) console.error(finding);
  console.log(`check:aws: ${findings.length} finding(s), ${ran} bundles ran`);
  process.exitCode = findings.length > 0 ? 1 : 0;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
