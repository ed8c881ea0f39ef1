// The pipeline: one Lambda per stage with access to exactly the lake prefixes it uses, the
// `pipeline` state machine from statemachines/pipeline.asl.json, its dead-letter queue and alert
// topic, the schedule that starts it, and alarms on everything that can go wrong unattended.
import { catalogAccess, catalogLink } from './catalog';
import { featureDeadLetterQueue, featureGroup, featureGroupLink } from './features';
import { LAMBDAS, type LambdaBuild, type LambdaName, NATIVE_PACKAGES, stageOf } from './lambdas';
import { aslDefinition, assumedBy, deployTarget } from './shared';
import { key, lake, lakeLink } from './storage';

const stage = $app.stage;
const scheduled = stage === 'prod' || stage === 'staging';

/** Failed executions land here (from the state machine's failure branch and the scheduler). */
export const deadLetterQueue = new aws.sqs.Queue('DeadLetterQueue', {
  messageRetentionSeconds: 14 * 24 * 3600,
  kmsMasterKeyId: key.arn,
});

/** Operator alerts: the failure branch and the alarms publish here; subscribe email or chat. */
export const alertTopic = new aws.sns.Topic('AlertTopic', { kmsMasterKeyId: key.arn });
/** What the health check sees as `Resource.Alerts`: it alerts before the run starts. */
const alertsLink = new sst.Linkable('Alerts', { properties: { arn: alertTopic.arn } });

/** Per-query extract watermarks, written only with conditional puts. */
export const watermarksTable = new aws.dynamodb.Table('Watermarks', {
  billingMode: 'PAY_PER_REQUEST',
  hashKey: 'query',
  attributes: [{ name: 'query', type: 'S' }],
  serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
  pointInTimeRecovery: { enabled: true },
});
const watermarksLink = new sst.Linkable('Watermarks', {
  properties: { name: watermarksTable.name },
});

/**
 * The circuit breakers around the warehouse and the feature store, one item per dependency
 * (packages/core/src/adapters/DynamoDbCircuitBreaker.ts): every invocation sees whether the
 * dependency is down. Small state that rebuilds itself, so no point-in-time recovery.
 */
export const breakersTable = new aws.dynamodb.Table('Breakers', {
  billingMode: 'PAY_PER_REQUEST',
  hashKey: 'circuit',
  attributes: [{ name: 'circuit', type: 'S' }],
  serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
});
export const breakersLink = new sst.Linkable('Breakers', {
  properties: { name: breakersTable.name },
});

/** What a function guarding its calls with a breaker does to the table: read, then update. */
export const breakersAccess = {
  actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  resources: [breakersTable.arn],
};

/** One statement granting `actions` on the objects under each prefix, or none for no prefix. */
const onLakePrefixes = (actions: string[], prefixes: string[] = []) =>
  prefixes.length > 0
    ? [{ actions, resources: prefixes.map((p) => $interpolate`${lake.arn}/${p}*`) }]
    : [];

/**
 * Read, write (put, delete, abort a multipart upload) and only delete under the given lake
 * prefixes, plus the KMS calls S3 makes for us. A server-side copy needs read on its source and
 * write on its target.
 *
 * Listing is allowed under the same prefixes only (an `s3:prefix` condition). S3 answers a read
 * of a missing key with 404 only to a caller allowed to list it, 403 otherwise; the stages read
 * missing keys as "absent" (a registry not yet written, a raw object already moved), so every
 * prefix a function touches is listable by it.
 */
export const lakeAccess = (access: { read?: string[]; write?: string[]; remove?: string[] }) => {
  const touched = [
    ...new Set([...(access.read ?? []), ...(access.write ?? []), ...(access.remove ?? [])]),
  ];
  return [
    {
      actions: ['s3:ListBucket'],
      resources: [lake.arn],
      conditions: [
        { test: 'StringLike', variable: 's3:prefix', values: touched.map((p) => `${p}*`) },
      ],
    },
    ...onLakePrefixes(['s3:GetObject'], access.read),
    ...onLakePrefixes(['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], access.write),
    ...onLakePrefixes(['s3:DeleteObject'], access.remove),
    { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.arn] },
  ];
};

/** An alarm that fires on any occurrence in five minutes and tells the alert topic. */
export const alarmOnAny = (
  name: string,
  metric: {
    namespace: string;
    metricName: string;
    dimensions: Record<string, $util.Input<string>>;
  },
  statistic: 'Sum' | 'Maximum' = 'Sum'
) =>
  new aws.cloudwatch.MetricAlarm(name, {
    ...metric,
    statistic,
    period: 300,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [alertTopic.arn],
  });

/** alarmOnAny for each of one resource's metrics, named `<prefix><metric>`. */
const alarmOnEach = (
  prefix: string,
  namespace: string,
  metricNames: string[],
  dimensions: Record<string, $util.Input<string>>
) => {
  for (const metricName of metricNames) {
    alarmOnAny(`${prefix}${metricName}`, { namespace, metricName, dimensions });
  }
};

/** Every function stageFunction built, with the stage name its handler publishes metrics under. */
export const deployedFunctions: { name: LambdaName; fn: sst.aws.Function; stage: string }[] = [];

/**
 * A stage function with the settings every stage shares, built as stacks/lambdas.ts describes
 * (`npm run check:aws` bundles and runs the same description offline): the native packages stay
 * external everywhere and are installed only where the bundle imports them.
 *
 * @param name - the function's logical name in LAMBDAS
 * @param options - its timeout, links and permissions (its memory is in LAMBDAS)
 */
export const stageFunction = (
  name: LambdaName,
  options: { timeout: `${number} minutes` } & Partial<sst.aws.FunctionArgs>
) => {
  const { handler, install, copyFiles, memoryMb } = LAMBDAS[name] as LambdaBuild;
  const fn = new sst.aws.Function(name, {
    handler,
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    logging: { retention: '3 months' },
    nodejs: { install, esbuild: { external: [...NATIVE_PACKAGES] } },
    ...(copyFiles ? { copyFiles } : {}),
    environment: { POWERTOOLS_SERVICE_NAME: 'strata', POWERTOOLS_LOG_LEVEL: 'INFO' },
    memory: `${memoryMb} MB`,
    ...options,
  });
  // A Task's retries hide a function that keeps failing or is throttled; these do not.
  alarmOnEach(name, 'AWS/Lambda', ['Errors', 'Throttles'], { FunctionName: fn.name });
  const timeoutSeconds = Number.parseInt(options.timeout, 10) * 60;
  // Resource use: an invocation that took most of its timeout is the next one to time out.
  new aws.cloudwatch.MetricAlarm(`${name}NearTimeout`, {
    namespace: 'AWS/Lambda',
    metricName: 'Duration',
    dimensions: { FunctionName: fn.name },
    statistic: 'Maximum',
    period: 300,
    evaluationPeriods: 1,
    threshold: timeoutSeconds * 1000 * 0.8,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [alertTopic.arn],
  });
  deployedFunctions.push({ name, fn, stage: stageOf(handler) });
  return fn;
};

export const planRun = stageFunction('PlanRun', {
  timeout: '1 minutes',
  link: [lakeLink],
  permissions: lakeAccess({ read: ['_config/'] }),
});

/**
 * This stage's warehouse key only: config's private_key_secret_id names strata/{stage}/snowflake/…,
 * which the function reads with its own stage filled in. (Secrets Manager appends a random
 * suffix to every secret's ARN, hence the `*`.)
 */
const warehouseSecretAccess = {
  actions: ['secretsmanager:GetSecretValue'],
  resources: [
    $interpolate`arn:${deployTarget.partition}:secretsmanager:${deployTarget.region}:${deployTarget.account}:secret:strata/${stage}/snowflake/*`,
  ],
};

/**
 * The pipeline's first state: the lake (config readable, a probe under _health/ writable), the
 * warehouse (through its breaker) and the feature group (DescribeFeatureGroup); it alerts the
 * topic itself when one is down.
 */
export const healthCheck = stageFunction('HealthCheck', {
  timeout: '3 minutes',
  link: [lakeLink, featureGroupLink, breakersLink, alertsLink],
  permissions: [
    ...lakeAccess({ read: ['_config/'], write: ['_health/'] }),
    breakersAccess,
    warehouseSecretAccess,
    { actions: ['sagemaker:DescribeFeatureGroup'], resources: [featureGroup.arn] },
    // The topic is encrypted with the lake's key, which lakeAccess already lets it use.
    { actions: ['sns:Publish'], resources: [alertTopic.arn] },
  ],
});

export const extract = stageFunction('Extract', {
  timeout: '15 minutes',
  link: [lakeLink, watermarksLink, breakersLink],
  permissions: [
    // _unload/ is where a Snowflake external stage writes COPY INTO results (queries with unload).
    ...lakeAccess({ read: ['_config/', 'bronze/', '_unload/'], write: ['bronze/', '_unload/'] }),
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: [watermarksTable.arn],
    },
    breakersAccess,
    warehouseSecretAccess,
  ],
});

export const bronzeToSilver = stageFunction('BronzeToSilver', {
  timeout: '15 minutes',
  link: [lakeLink, catalogLink],
  permissions: [
    ...lakeAccess({
      read: ['_config/', 'bronze/', 'silver/'],
      write: ['silver/', 'quarantine/'],
    }),
    // Upserts each silver table it writes (entities, history tables) for Athena.
    catalogAccess(['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']),
  ],
});

export const silverToGold = stageFunction('SilverToGold', {
  timeout: '15 minutes',
  link: [lakeLink, catalogLink],
  // _quality/: each model's quality report per run and the last published one's, which the
  // row-count rule compares with; quarantine/: the rows that broke an error rule.
  permissions: [
    ...lakeAccess({
      read: ['_config/', 'silver/', '_quality/'],
      write: ['gold/', '_quality/', 'quarantine/'],
    }),
    // Upserts each gold model's table (gold_<model>) for Athena.
    catalogAccess(['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']),
  ],
});

export const featureIngest = stageFunction('FeatureIngest', {
  timeout: '15 minutes',
  link: [lakeLink, featureGroupLink, breakersLink],
  permissions: [
    // _features/: the hashes of what was last sent, and each run's plan, ranges and markers.
    ...lakeAccess({ read: ['_config/', 'gold/', '_features/'], write: ['_features/'] }),
    // DeleteRecord: a customer deleted at the source leaves the model and the group.
    { actions: ['sagemaker:PutRecord', 'sagemaker:DeleteRecord'], resources: [featureGroup.arn] },
    // Records that fail for good; the queue is encrypted with the lake's key (lakeAccess's KMS).
    { actions: ['sqs:SendMessage'], resources: [featureDeadLetterQueue.arn] },
    breakersAccess,
  ],
});

const stageFunctions = [healthCheck, planRun, extract, bronzeToSilver, silverToGold, featureIngest];

/**
 * Every `${...}` placeholder in statemachines/pipeline.asl.json and the value stacks/ binds to
 * it; test/asl.test.ts checks that the two agree.
 */
const pipelineBindings = {
  HealthCheckFunctionArn: healthCheck.arn,
  PlanRunFunctionArn: planRun.arn,
  ExtractFunctionArn: extract.arn,
  BronzeToSilverFunctionArn: bronzeToSilver.arn,
  SilverToGoldFunctionArn: silverToGold.arn,
  FeatureIngestFunctionArn: featureIngest.arn,
  DeadLetterQueueUrl: deadLetterQueue.url,
  AlertTopicArn: alertTopic.arn,
};

/**
 * What every state machine's role needs to log and trace, on `*`: CloudWatch Logs delivery and
 * X-Ray take no resource-level permissions. The sampling calls are what a traced execution makes
 * first (X-Ray's sampling rules decide which executions are traced).
 */
const observabilityStatements = [
  {
    Effect: 'Allow',
    Action: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    Resource: '*',
  },
  {
    Effect: 'Allow',
    Action: [
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ],
    Resource: '*',
  },
];

/** A state machine's name, from its ASL file's: `backfill` → `strata-<stage>-backfill`. */
export const stateMachineName = (file: string) => `strata-${stage}-${file}`;

/**
 * A STANDARD state machine from statemachines/<file>.asl.json, observed like every other: its
 * role (`statements` plus logging and tracing), errors logged to its own log group without
 * execution data, X-Ray tracing, and an alarm on each execution that fails, times out or is
 * aborted (the only alert for a failure no Catch sees: a Distributed Map left uncaught for a
 * redrive, States.DataLimitExceeded, States.Runtime).
 *
 * @param logicalName - e.g. `Pipeline`; the role is `<logicalName>Role`, the logs `<logicalName>Logs`
 * @param args - the ASL file (without `.asl.json`), its bindings and what the role may do
 */
export const stateMachine = (
  logicalName: string,
  args: { file: string; bindings: Record<string, $util.Input<string>>; statements: object[] }
) => {
  const name = stateMachineName(args.file);
  const role = new aws.iam.Role(`${logicalName}Role`, {
    assumeRolePolicy: assumedBy('states.amazonaws.com'),
    inlinePolicies: [
      {
        name: args.file,
        policy: $jsonStringify({
          Version: '2012-10-17',
          Statement: [...args.statements, ...observabilityStatements],
        }),
      },
    ],
  });
  const logs = new aws.cloudwatch.LogGroup(`${logicalName}Logs`, {
    name: `/aws/vendedlogs/states/${name}`,
    retentionInDays: 90,
  });
  const machine = new aws.sfn.StateMachine(logicalName, {
    name,
    type: 'STANDARD',
    roleArn: role.arn,
    definition: aslDefinition(`${args.file}.asl.json`, args.bindings),
    loggingConfiguration: {
      level: 'ERROR',
      includeExecutionData: false,
      logDestination: $interpolate`${logs.arn}:*`,
    },
    tracingConfiguration: { enabled: true },
  });
  alarmOnEach(
    logicalName,
    'AWS/States',
    ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'],
    { StateMachineArn: machine.arn }
  );
  return machine;
};

export const pipeline = stateMachine('Pipeline', {
  file: 'pipeline',
  bindings: pipelineBindings,
  statements: [
    {
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: stageFunctions.flatMap((fn) => [fn.arn, $interpolate`${fn.arn}:*`]),
    },
    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: deadLetterQueue.arn },
    { Effect: 'Allow', Action: 'sns:Publish', Resource: alertTopic.arn },
    { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: key.arn },
  ],
});

/**
 * An EventBridge Scheduler schedule that starts a state machine, with a role allowed to start
 * that one machine only. Enabled on staging and prod only: a personal or dev stage would
 * otherwise run unattended for nobody. A start that still fails after the scheduler's retries
 * lands in the dead-letter queue.
 *
 * @param name - the schedule's logical name; its role is `<name>Role`
 * @param machine - the state machine to start
 * @param schedule - when (a `rate()` or `cron()` expression, UTC) and with what execution input
 */
export const scheduleStateMachine = (
  name: string,
  machine: aws.sfn.StateMachine,
  schedule: { expression: string; input: string }
) => {
  const role = new aws.iam.Role(`${name}Role`, {
    assumeRolePolicy: assumedBy('scheduler.amazonaws.com'),
    inlinePolicies: [
      {
        name: 'start-execution',
        policy: $jsonStringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'states:StartExecution', Resource: machine.arn },
            { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: deadLetterQueue.arn },
            {
              Effect: 'Allow',
              Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
              Resource: key.arn,
            },
          ],
        }),
      },
    ],
  });
  return new aws.scheduler.Schedule(name, {
    scheduleExpression: schedule.expression,
    scheduleExpressionTimezone: 'UTC',
    state: scheduled ? 'ENABLED' : 'DISABLED',
    flexibleTimeWindow: { mode: 'OFF' },
    target: {
      arn: machine.arn,
      roleArn: role.arn,
      input: schedule.input,
      retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      deadLetterConfig: { arn: deadLetterQueue.arn },
    },
  });
};

/** Hourly incremental runs of every configured entity. */
export const schedule = scheduleStateMachine('PipelineSchedule', pipeline, {
  expression: 'rate(1 hour)',
  input: '{}',
});

for (const [name, queue] of [
  ['DeadLetterQueueNotEmpty', deadLetterQueue],
  ['FeatureDeadLetterQueueNotEmpty', featureDeadLetterQueue],
] as const) {
  alarmOnAny(
    name,
    {
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: queue.name },
    },
    'Maximum'
  );
}
