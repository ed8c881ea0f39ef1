// The backfill: plan-backlog, flatten-batch and reconcile, the ledger they share, the
// `backfill` state machine whose Distributed Map fans FlattenBatch out over the plan, and the
// `weekly-sync` state machine that runs it over each feed's last weekly drop every Monday.
import { catalogAccess, catalogLink } from './catalog';
import {
  alertTopic,
  deadLetterQueue,
  lakeAccess,
  scheduleStateMachine,
  stageFunction,
  stateMachine,
  stateMachineName,
} from './pipeline';
import { configuredFeeds, deployTarget } from './shared';
import { key, lake, lakeLink } from './storage';

/** One item per raw object: PENDING → PROCESSING → SUCCEEDED / FAILED, conditional writes only. */
export const ledgerTable = new aws.dynamodb.Table('Ledger', {
  billingMode: 'PAY_PER_REQUEST',
  hashKey: 'object_key',
  attributes: [{ name: 'object_key', type: 'S' }],
  serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
  pointInTimeRecovery: { enabled: true },
});
const ledgerLink = new sst.Linkable('Ledger', { properties: { name: ledgerTable.name } });

const ledgerAccess = (actions: string[]) => ({ actions, resources: [ledgerTable.arn] });

export const planBacklog = stageFunction('PlanBacklog', {
  timeout: '15 minutes',
  link: [lakeLink, ledgerLink],
  permissions: [
    // The registry and its run copy beside the plan; _inventory/: S3 Inventory reports of the
    // lake, which the planner may read instead of listing; _config/: the feed's partition,
    // checked against the first raw records.
    ...lakeAccess({
      read: ['_config/', 'raw/', '_inventory/', '_schemas/', '_backfill/'],
      write: ['_backfill/'],
    }),
    ledgerAccess(['dynamodb:BatchGetItem']),
  ],
});

export const flattenBatch = stageFunction('FlattenBatch', {
  timeout: '15 minutes',
  // /tmp holds a 256 MiB batch as downloaded, inflated (gzip runs ~10:1) and masked, its
  // Parquet and DuckDB's spill: Lambda's default 512 MB would fill on the first gzip batch.
  storage: '10240 MB',
  link: [lakeLink, ledgerLink],
  permissions: [
    // A finished object moves by a server-side copy from raw/ to raw-processed/, then a delete
    // from raw/; listing raw/ (which lakeAccess grants) makes S3 say 404, not 403, for a source
    // already moved, which a retried batch relies on.
    // _backfill/: its intent and manifest; a batch that takes over from a dead one deletes what
    // the dead one's intent names (its silver parts, quarantine, fragments, intent).
    ...lakeAccess({
      read: ['_config/', 'raw/', 'raw-processed/', '_backfill/'],
      write: ['raw-processed/', 'silver/', 'quarantine/', '_schemas/', '_backfill/'],
      remove: ['raw/'],
    }),
    ledgerAccess(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']),
  ],
});

export const reconcile = stageFunction('Reconcile', {
  timeout: '15 minutes',
  // A part it rewrites is downloaded and written again in /tmp, four at a time.
  storage: '2048 MB',
  link: [lakeLink, catalogLink, ledgerLink],
  permissions: [
    // How each planned object ended, for the report's failed, retried and stranded objects.
    ledgerAccess(['dynamodb:BatchGetItem']),
    // silver/: a part whose column the merge widened is read and written again in that type.
    ...lakeAccess({
      read: ['_backfill/', '_schemas/', 'silver/'],
      write: ['_backfill/', '_schemas/', 'silver/'],
    }),
    // Upserts the feed's silver table: read it, then create it or update it at its version.
    catalogAccess(['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']),
  ],
});

/** Every placeholder in statemachines/backfill.asl.json; test/asl.test.ts checks the pairing. */
const backfillBindings = {
  PlanBacklogFunctionArn: planBacklog.arn,
  FlattenBatchFunctionArn: flattenBatch.arn,
  ReconcileFunctionArn: reconcile.arn,
  LakeBucketName: lake.bucket,
  DeadLetterQueueUrl: deadLetterQueue.url,
  AlertTopicArn: alertTopic.arn,
};

/** Its own name, which the Distributed Map's statements need before the machine exists. */
const name = stateMachineName('backfill');
const statesArn = (kind: string, rest: string) =>
  $interpolate`arn:${deployTarget.partition}:states:${deployTarget.region}:${deployTarget.account}:${kind}:${rest}`;

export const backfill = stateMachine('Backfill', {
  file: 'backfill',
  bindings: backfillBindings,
  statements: [
    {
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: [planBacklog, flattenBatch, reconcile].flatMap((fn) => [
        fn.arn,
        $interpolate`${fn.arn}:*`,
      ]),
    },
    {
      // The Distributed Map starts its own child executions and manages its map runs.
      Effect: 'Allow',
      Action: ['states:StartExecution', 'states:DescribeExecution', 'states:StopExecution'],
      Resource: [statesArn('stateMachine', name), statesArn('execution', `${name}/*`)],
    },
    {
      Effect: 'Allow',
      Action: ['states:DescribeMapRun', 'states:UpdateMapRun', 'states:ListMapRuns'],
      Resource: statesArn('mapRun', `${name}/*`),
    },
    // ItemReader reads the plan; ResultWriter writes the map run's results.
    {
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: $interpolate`${lake.arn}/_backfill/*`,
    },
    {
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      Resource: $interpolate`${lake.arn}/_backfill/*`,
    },
    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: deadLetterQueue.arn },
    { Effect: 'Allow', Action: 'sns:Publish', Resource: alertTopic.arn },
    { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: key.arn },
  ],
});

/** The raw/<feed>/ folders the weekly sync covers: the feeds config/strata.json configures. */
const weeklyFeeds = configuredFeeds();

/** Every placeholder in statemachines/weekly-sync.asl.json; test/asl.test.ts checks the pairing. */
const weeklySyncBindings = {
  BackfillStateMachineArn: backfill.arn,
  DeadLetterQueueUrl: deadLetterQueue.url,
  AlertTopicArn: alertTopic.arn,
};

/** The backfill's executions, which weekly-sync starts, follows and may stop. */
const backfillExecutions = backfill.arn.apply(
  (arn) => `${arn.replace(':stateMachine:', ':execution:')}:*`
);

/**
 * The EventBridge rule Step Functions manages to follow `.sync` nested executions, in the
 * backfill's partition, region and account (stepfunctions-iam.html, "Synchronous").
 */
const nestedExecutionRule = backfill.arn.apply((arn) => {
  const [, partition, , region, account] = arn.split(':');
  return `arn:${partition}:events:${region}:${account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
});

export const weeklySync = stateMachine('WeeklySync', {
  file: 'weekly-sync',
  bindings: weeklySyncBindings,
  statements: [
    { Effect: 'Allow', Action: 'states:StartExecution', Resource: backfill.arn },
    {
      Effect: 'Allow',
      Action: ['states:DescribeExecution', 'states:StopExecution'],
      Resource: backfillExecutions,
    },
    {
      Effect: 'Allow',
      Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      Resource: nestedExecutionRule,
    },
    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: deadLetterQueue.arn },
    { Effect: 'Allow', Action: 'sns:Publish', Resource: alertTopic.arn },
    { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: key.arn },
  ],
});

/**
 * Mondays 02:00 UTC: sync the ISO week that ended the night before. The scheduler fills
 * `<aws.scheduler.scheduled-time>` in (managing-schedule-context-attributes.html), so a retried
 * or late start still syncs the week it was scheduled for.
 */
export const weeklySyncSchedule = scheduleStateMachine('WeeklySyncSchedule', weeklySync, {
  expression: 'cron(0 2 ? * MON *)',
  input: JSON.stringify({ feeds: weeklyFeeds, scheduledTime: '<aws.scheduler.scheduled-time>' }),
});
