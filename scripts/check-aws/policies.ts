// What the rendered stacks (render.ts) must show before a deploy: least privilege in every IAM
// policy, and every state machine and function observed (logs, traces, alarms).
import { STAGE_METRIC } from '../../functions/_shared/metrics.js';
import { LAMBDAS, type LambdaName, stageOf } from '../../stacks/lambdas.js';
import type { RenderedPolicy, RenderedStacks, Statement } from './render.js';
import type { Finding } from './typecheck.js';

/** Services that hold or move data: no wildcard actions, no unscoped resources. */
const DATA_SERVICES = new Set([
  's3',
  'dynamodb',
  'secretsmanager',
  'kms',
  'glue',
  'sagemaker',
  'sqs',
  'sns',
  'states',
  'lambda',
  'events',
]);

/** Actions AWS authorizes on `*` only (no resource-level permissions). */
const RESOURCELESS =
  /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSampling\w+)|logs:(\w+LogDeliver(y|ies)|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;

/** What a traced state machine's role must allow (Step Functions' X-Ray policy). */
export const TRACING_ACTIONS = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
];

/** The account, region and stage the stacks were rendered for. */
export interface Target {
  account: string;
  region: string;
  stage: string;
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** Services whose ARNs carry neither region nor account. */
const GLOBAL_ARNS = new Set(['s3', 'iam']);

const resourceProblems = (action: string, resource: string, target: Target): string[] => {
  if (resource === '*') {
    return RESOURCELESS.test(action) ? [] : [`${action} on every resource (*)`];
  }
  const [, , service = '', region = '', account = ''] = resource.split(':');
  if (GLOBAL_ARNS.has(service)) return [];
  const problems: string[] = [];
  if (region !== target.region)
    problems.push(`${resource}: region "${region}", not ${target.region}`);
  if (account !== target.account) {
    problems.push(`${resource}: account "${account}", not ${target.account}`);
  }
  if (service === 'secretsmanager') {
    const own = `arn:aws:secretsmanager:${target.region}:${target.account}:secret:strata/${target.stage}/`;
    if (!resource.startsWith(own)) problems.push(`${resource}: not under ${own}`);
  }
  return problems;
};

const statementProblems = (statement: Statement, target: Target): string[] => {
  if (statement.Effect !== 'Allow') return [];
  return list(statement.Action).flatMap((action) => {
    const service = action.split(':')[0] ?? '';
    const problems: string[] = [];
    if (action.includes('*') && (action === '*' || DATA_SERVICES.has(service))) {
      problems.push(`wildcard action ${action}`);
    }
    problems.push(...list(statement.Resource).flatMap((r) => resourceProblems(action, r, target)));
    if (action === 's3:ListBucket' && !statement.Condition?.StringLike?.['s3:prefix']) {
      problems.push('s3:ListBucket on the whole bucket (no s3:prefix condition)');
    }
    return problems;
  });
};

/**
 * Least-privilege problems in rendered policies: wildcard actions on data services, resources
 * left to `*` (except for actions AWS authorizes only that way), ARNs in another account or
 * region, secrets outside `strata/<stage>/`, listing a bucket without a prefix condition.
 *
 * @param policies - every identity's rendered statements
 * @param target - where and for which stage they were rendered
 */
export const leastPrivilegeFindings = (
  policies: readonly RenderedPolicy[],
  target: Target
): Finding[] =>
  policies.flatMap(({ owner, statements }) =>
    [...new Set(statements.flatMap((s) => statementProblems(s, target)))].map(
      (problem) => `${owner}: ${problem}`
    )
  );

const allows = (policy: RenderedPolicy | undefined, action: string): boolean =>
  policy?.statements.some((s) => s.Effect === 'Allow' && list(s.Action).includes(action)) ?? false;

/**
 * Observability the stacks must declare: every state machine logs, traces with a role allowed
 * to, and alarms on failed, timed-out and aborted executions; every function alarms on errors,
 * throttles and a duration near its timeout, and its stage on data-quality failures and on a
 * duration above its learned baseline; a cost budget and a dashboard exist.
 *
 * @param stacks - the rendered stacks
 * @param functionName - the deployed name of a function, by logical name
 */
export const observabilityFindings = (
  stacks: RenderedStacks,
  functionName: (name: string) => string
): Finding[] => {
  const alarms = stacks.resources
    .filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm')
    .map((r) => r.inputs as { metricName: string; dimensions?: Record<string, string> });
  const alarmed = (metricName: string, dimension: string, value: string) =>
    alarms.some((a) => a.metricName === metricName && a.dimensions?.[dimension] === value);
  const findings: Finding[] = [];
  for (const machine of stacks.resources.filter(
    (r) => r.type === 'aws:sfn/stateMachine:StateMachine'
  )) {
    const inputs = machine.inputs as {
      roleArn: string;
      loggingConfiguration?: { logDestination?: string; level?: string };
      tracingConfiguration?: { enabled?: boolean };
    };
    const role = stacks.policies.find((p) => p.arn === inputs.roleArn);
    if (!inputs.loggingConfiguration?.logDestination) {
      findings.push(`state machine ${machine.name}: no logging configuration`);
    }
    if (inputs.tracingConfiguration?.enabled) {
      for (const action of TRACING_ACTIONS.filter((a) => !allows(role, a))) {
        findings.push(`state machine ${machine.name}: traced, but its role lacks ${action}`);
      }
    } else {
      findings.push(`state machine ${machine.name}: tracing off`);
    }
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      if (!alarmed(metric, 'StateMachineArn', machine.arn)) {
        findings.push(`state machine ${machine.name}: no ${metric} alarm`);
      }
    }
  }
  const anomalyAlarmed = (stage: string) =>
    stacks.resources.some((r) => {
      const queries = (r.inputs.metricQueries ?? []) as {
        expression?: string;
        metric?: { metricName?: string; dimensions?: Record<string, string> };
      }[];
      return (
        queries.some((q) => q.expression?.startsWith('ANOMALY_DETECTION_BAND(')) &&
        queries.some(
          (q) =>
            q.metric?.metricName === STAGE_METRIC.duration && q.metric.dimensions?.stage === stage
        )
      );
    });
  for (const name of stacks.functions.keys()) {
    const stage = stageOf(LAMBDAS[name as LambdaName].handler);
    for (const metric of ['Errors', 'Throttles', 'Duration']) {
      if (!alarmed(metric, 'FunctionName', functionName(name))) {
        findings.push(`function ${name}: no ${metric} alarm`);
      }
    }
    if (!alarmed(STAGE_METRIC.qualityFailures, 'stage', stage)) {
      findings.push(`stage ${stage}: no data-quality alarm`);
    }
    if (!anomalyAlarmed(stage)) findings.push(`stage ${stage}: no anomaly alarm on its duration`);
  }
  const has = (type: string) => stacks.resources.some((r) => r.type === type);
  if (!has('aws:budgets/budget:Budget')) findings.push('no monthly cost budget');
  if (!has('aws:cloudwatch/dashboard:Dashboard')) findings.push('no dashboard');
  return findings;
};

/** Days an old version of a moved raw object may stay: each is a second copy of the backlog. */
const RAW_NONCURRENT_DAYS = 7;

/**
 * Storage the lake must not pay twice for: FlattenBatch moves raw/ objects to raw-processed/,
 * so the versions its deletes leave under raw/ must expire within RAW_NONCURRENT_DAYS.
 *
 * @param stacks - the rendered stacks
 */
export const lifecycleFindings = (stacks: RenderedStacks): Finding[] => {
  const lifecycle = stacks.resources.find((r) => r.name === 'LakeLifecycle');
  const rules = (
    (lifecycle?.inputs.rules ?? []) as {
      status?: string;
      filter?: { prefix?: string };
      noncurrentVersionExpiration?: { noncurrentDays?: number };
    }[]
  ).filter((r) => r.status === 'Enabled');
  const days = Math.min(
    ...rules
      .filter((r) => (r.filter?.prefix ?? '') === 'raw/' || !r.filter?.prefix)
      .map((r) => r.noncurrentVersionExpiration?.noncurrentDays ?? Number.POSITIVE_INFINITY)
  );
  return days <= RAW_NONCURRENT_DAYS
    ? []
    : [`LakeLifecycle: noncurrent raw/ versions stay ${days} days (over ${RAW_NONCURRENT_DAYS})`];
};
