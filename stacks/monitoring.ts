// What operators watch: Strata's own metrics (functions/_shared/metrics.ts) and AWS's, on one
// dashboard; alarms on data quality and on a stage slower than its own history (anomaly
// detection); a monthly cost budget; e-mail subscriptions to the alert topic, per stage, from
// config/operations.json. Failure, timeout, error and throttle alarms sit with what they watch
// (stacks/pipeline.ts).
import { readFileSync } from 'node:fs';
import { METRICS_NAMESPACE, METRICS_SERVICE, STAGE_METRIC } from '../functions/_shared/metrics';
import { backfill, weeklySync } from './backfill';
import { alarmOnAny, alertTopic, deadLetterQueue, deployedFunctions, pipeline } from './pipeline';
import { deployTarget, fromRoot } from './shared';

const stage = $app.stage;

/** config/operations.json: who is told, and what a month may cost, per stage. */
interface Operations {
  alert_emails: Record<string, string[]>;
  monthly_budget_usd: Record<string, number>;
}
const operations = JSON.parse(
  readFileSync(fromRoot('config/operations.json'), 'utf8')
) as Operations;

for (const [i, email] of (operations.alert_emails[stage] ?? []).entries()) {
  new aws.sns.TopicSubscription(`AlertEmail${i}`, {
    topic: alertTopic.arn,
    protocol: 'email',
    endpoint: email,
  });
}

/** Strata's metric for one stage, as the handlers publish it (service and stage dimensions). */
const stageMetric = (metricName: string, stageName: string) => ({
  namespace: METRICS_NAMESPACE,
  metricName,
  dimensions: { service: METRICS_SERVICE, stage: stageName },
});

const stages = [...new Set(deployedFunctions.map((f) => f.stage))];

for (const f of deployedFunctions) {
  // A data-quality check failed: the run stopped rather than write bad data.
  alarmOnAny(`${f.name}QualityFailures`, stageMetric(STAGE_METRIC.qualityFailures, f.stage));
  // Performance degradation: the stage's p90 duration over an hour above the band CloudWatch
  // learns from its own history (two standard deviations), two hours in three.
  new aws.cloudwatch.MetricAlarm(`${f.name}SlowerThanBaseline`, {
    comparisonOperator: 'GreaterThanUpperThreshold',
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    thresholdMetricId: 'expected',
    treatMissingData: 'notBreaching',
    alarmActions: [alertTopic.arn],
    metricQueries: [
      {
        id: 'duration',
        returnData: true,
        metric: {
          ...stageMetric(STAGE_METRIC.duration, f.stage),
          period: 3600,
          stat: 'p90',
        },
      },
      {
        id: 'expected',
        expression: 'ANOMALY_DETECTION_BAND(duration, 2)',
        label: `${f.stage} expected duration`,
        returnData: true,
      },
    ],
  });
}

/**
 * Cost: this stage's spend in the month, by the `sst:stage` tag SST puts on every resource
 * (activate it as a cost allocation tag once per account), told to the alert topic at 80% of
 * the forecast and at 100% of the actual.
 */
export const budget = new aws.budgets.Budget('MonthlyCost', {
  name: `strata-${stage}-monthly`,
  budgetType: 'COST',
  timeUnit: 'MONTHLY',
  limitAmount: String(
    operations.monthly_budget_usd[stage] ?? operations.monthly_budget_usd.default ?? 25
  ),
  limitUnit: 'USD',
  costFilters: [{ name: 'TagKeyValue', values: [`user:sst:stage$${stage}`] }],
  notifications: [
    { threshold: 80, notificationType: 'FORECASTED' },
    { threshold: 100, notificationType: 'ACTUAL' },
  ].map((n) => ({
    ...n,
    comparisonOperator: 'GREATER_THAN',
    thresholdType: 'PERCENTAGE',
    subscriberSnsTopicArns: [alertTopic.arn],
  })),
});

/** AWS Budgets publishes to the alert topic for this account only. */
new aws.sns.TopicPolicy('AlertTopicPolicy', {
  arn: alertTopic.arn,
  policy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BudgetsPublish',
        Effect: 'Allow',
        Principal: { Service: 'budgets.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: alertTopic.arn,
        Condition: { StringEquals: { 'aws:SourceAccount': deployTarget.account } },
      },
    ],
  }),
});

const machines = [
  { label: 'pipeline', arn: pipeline.arn },
  { label: 'backfill', arn: backfill.arn },
  { label: 'weekly-sync', arn: weeklySync.arn },
];

/** A metric widget: `metrics` in CloudWatch's array form. */
const widget = (title: string, metrics: unknown[][], stat = 'Sum') => ({
  type: 'metric',
  width: 12,
  height: 6,
  properties: {
    title,
    region: deployTarget.region,
    stat,
    period: 300,
    view: 'timeSeries',
    metrics,
  },
});

/** One place to see the pipeline run: executions, rows, quarantine, durations, errors, the DLQ. */
export const dashboard = new aws.cloudwatch.Dashboard('Dashboard', {
  dashboardName: `strata-${stage}`,
  dashboardBody: $jsonStringify({
    widgets: [
      widget(
        'Executions failed, timed out or aborted',
        machines.flatMap((m) =>
          ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((metric) => [
            'AWS/States',
            metric,
            'StateMachineArn',
            m.arn,
            { label: `${m.label} ${metric.replace('Executions', '')}` },
          ])
        )
      ),
      widget(
        'Executions succeeded',
        machines.map((m) => ['AWS/States', 'ExecutionsSucceeded', 'StateMachineArn', m.arn])
      ),
      ...[STAGE_METRIC.rows, STAGE_METRIC.quarantined, STAGE_METRIC.bytes].map((metric) =>
        widget(
          `${metric} per stage`,
          stages.map((s) => [METRICS_NAMESPACE, metric, 'service', METRICS_SERVICE, 'stage', s])
        )
      ),
      widget(
        'Stage duration (p90)',
        stages.map((s) => [
          METRICS_NAMESPACE,
          STAGE_METRIC.duration,
          'service',
          METRICS_SERVICE,
          'stage',
          s,
        ]),
        'p90'
      ),
      widget(
        'Stage and data-quality failures',
        stages.flatMap((s) =>
          [STAGE_METRIC.failures, STAGE_METRIC.qualityFailures].map((metric) => [
            METRICS_NAMESPACE,
            metric,
            'service',
            METRICS_SERVICE,
            'stage',
            s,
          ])
        )
      ),
      widget(
        'Lambda errors and throttles',
        deployedFunctions.flatMap((f) =>
          ['Errors', 'Throttles'].map((metric) => [
            'AWS/Lambda',
            metric,
            'FunctionName',
            f.fn.name,
            { label: `${f.name} ${metric}` },
          ])
        )
      ),
      widget(
        'Lambda duration (max)',
        deployedFunctions.map((f) => ['AWS/Lambda', 'Duration', 'FunctionName', f.fn.name]),
        'Maximum'
      ),
      widget(
        'Dead-letter queue depth',
        [['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', deadLetterQueue.name]],
        'Maximum'
      ),
    ],
  }),
});
