import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { TransientError } from '@strata/core/errors';
import type { ReconcileResult } from '@strata/core/reconcile';
import { generateBacklog } from '@strata/local/backlog';
import { EmbeddedRuntime, type ExecuteOptions, localMachineArn } from '@strata/local/runtime';
import {
  LocalStepFunctions,
  type SfnApiServer,
  StepFunctionsExecutions,
  serveSfnApi,
} from '@strata/local/sfn-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TIME_SCALE } from './support/runtime.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const FEED = 'payments';
const INPUT = {
  feed: FEED,
  prefix: `raw/${FEED}/all_historical_files/`,
  targetBatchBytes: 4 * 1024 * 1024,
  maxFilesPerBatch: 2,
};
const BACKFILL = localMachineArn('backfill');

let dir: string;
let runtime: EmbeddedRuntime;
let server: SfnApiServer;
let sfn: SFNClient;
/** Faults the tests switch on and off: batch 0 fails while `failing`, a batch waits on `held`. */
const faults: { failing: boolean; held?: Promise<unknown> } = { failing: false };

const batchNumber = (event: unknown) =>
  Number(/-(\d{6})$/.exec(String((event as { batchId: string }).batchId))?.[1]);

const functionOverrides: ExecuteOptions['functionOverrides'] = {
  FlattenBatch: (real) => async (event, name) => {
    await faults.held;
    if (faults.failing && batchNumber(event) === 0) {
      throw new TransientError('batch 0 keeps failing');
    }
    return real(event, name);
  },
};

/** Polls DescribeExecution until the execution is no longer RUNNING. */
const settled = async (executionArn: string): Promise<DescribeExecutionCommandOutput> => {
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Every event of an execution's history, read a page of `pageSize` at a time. */
const historyOf = async (executionArn: string, pageSize = 25): Promise<HistoryEvent[]> => {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: pageSize, nextToken })
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
};

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error) => error
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-sfn-api-'));
  runtime = await EmbeddedRuntime.start({ dir, scale: 0.002, timeScale: TEST_TIME_SCALE });
  await generateBacklog({
    store: runtime.store,
    targetBytes: 1024 * 1024,
    seed: 21,
    feeds: [FEED],
  });
  server = await serveSfnApi(new LocalStepFunctions(runtime, { functionOverrides }));
  sfn = new SFNClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  sfn?.destroy();
  await server?.close();
  await runtime?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the Step Functions API over the embedded runtime, driven by @aws-sdk/client-sfn', () => {
  it('starts, describes, reads the history of and redrives a failed backfill to success', async () => {
    // Prepare: batch 0 fails on every attempt, in FlattenBacklog and again in RetryFailedBatches
    faults.failing = true;

    // Act: start, and wait for the failure
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: BACKFILL,
        name: 'api-backfill',
        input: JSON.stringify(INPUT),
      })
    );
    const failed = await settled(started.executionArn as string);
    const failedHistory = await historyOf(started.executionArn as string);
    const mapRuns = await sfn.send(new ListMapRunsCommand({ executionArn: started.executionArn }));
    const retryRun = mapRuns.mapRuns?.[1]?.mapRunArn;
    const failedRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn: retryRun }));

    // Assess: AWS's ARN, status, error, dates and redrive status
    expect(started.executionArn).toBe(
      'arn:aws:states:us-east-1:000000000000:execution:strata-local-backfill:api-backfill'
    );
    expect(started.startDate).toBeInstanceOf(Date);
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      stateMachineArn: BACKFILL,
      name: 'api-backfill',
      redriveCount: 0,
      redriveStatus: 'REDRIVABLE',
    });
    expect(JSON.parse(failed.input as string)).toEqual(INPUT);
    expect(failed.stopDate?.getTime()).toBeGreaterThanOrEqual(failed.startDate?.getTime() ?? 0);
    // The history: ids from 1, each event pointing at an earlier one, AWS's event types
    expect(failedHistory.map((event) => event.id)).toEqual(
      failedHistory.map((_, index) => index + 1)
    );
    for (const event of failedHistory) {
      expect(event.previousEventId).toBeLessThan(event.id as number);
      expect(event.timestamp).toBeInstanceOf(Date);
    }
    expect(failedHistory[0]).toMatchObject({
      type: 'ExecutionStarted',
      previousEventId: 0,
      executionStartedEventDetails: { input: JSON.stringify(INPUT) },
    });
    const types = failedHistory.map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
        'MapStateEntered',
        'MapRunStarted',
        'MapRunSucceeded',
        'MapStateExited',
        'ChoiceStateEntered',
        'MapRunFailed',
      ])
    );
    expect(failedHistory.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'States.ExceedToleratedFailureThreshold' },
    });
    expect(
      failedHistory.find((event) => event.type === 'MapRunStarted')?.mapRunStartedEventDetails
    ).toEqual({ mapRunArn: mapRuns.mapRuns?.[0]?.mapRunArn });
    // Two Map Runs: FlattenBacklog's (failures tolerated) and RetryFailedBatches' (not)
    expect(mapRuns.mapRuns).toHaveLength(2);
    expect(retryRun).toMatch(
      /^arn:aws:states:us-east-1:000000000000:mapRun:strata-local-backfill\/[^:]+:[0-9a-f-]{36}$/
    );
    expect(failedRun).toMatchObject({
      executionArn: started.executionArn,
      status: 'FAILED',
      redriveCount: 0,
      itemCounts: { failed: 1, succeeded: 0, total: 1 },
      executionCounts: { failed: 1, total: 1 },
    });

    // Act: remove the fault and redrive
    faults.failing = false;
    const redriven = await sfn.send(
      new RedriveExecutionCommand({ executionArn: started.executionArn })
    );
    const succeeded = await settled(started.executionArn as string);
    const history = await historyOf(started.executionArn as string, 7);
    const redrivenRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn: retryRun }));
    const again = await rejection(
      sfn.send(new RedriveExecutionCommand({ executionArn: started.executionArn }))
    );
    const redrivenOnly = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: BACKFILL, redriveFilter: 'REDRIVEN' })
    );

    // Assess: the same execution succeeded once redriven, the history goes on from the failure
    expect(redriven.redriveDate).toBeInstanceOf(Date);
    expect(succeeded).toMatchObject({
      executionArn: started.executionArn,
      status: 'SUCCEEDED',
      redriveCount: 1,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
    });
    const output = JSON.parse(succeeded.output as string) as {
      reconcile: { report: ReconcileResult };
    };
    expect(output.reconcile.report.batches).toMatchObject({ failed: 0, pending: 0 });
    expect(history.slice(0, failedHistory.length)).toEqual(failedHistory);
    expect(history[failedHistory.length]).toMatchObject({
      type: 'ExecutionRedriven',
      executionRedrivenEventDetails: { redriveCount: 1 },
    });
    expect(history.map((event) => event.type)).toContain('MapRunRedriven');
    expect(history.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(redrivenRun).toMatchObject({
      status: 'SUCCEEDED',
      redriveCount: 1,
      itemCounts: { failed: 0, succeeded: 1, total: 1 },
    });
    expect(again).toBeInstanceOf(ExecutionNotRedrivable);
    expect(again?.message).toBe('Execution is SUCCEEDED and cannot be redriven');
    expect(redrivenOnly.executions?.map((execution) => execution.name)).toEqual(['api-backfill']);
  });

  it('stops a running execution (ABORTED, with the error and cause given) and redrives it', async () => {
    // Prepare: batches wait until released
    let release: (value?: unknown) => void = () => undefined;
    faults.held = new Promise((resolve) => {
      release = resolve;
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: BACKFILL,
        name: 'api-stopped',
        input: JSON.stringify(INPUT),
      })
    );

    for (;;) {
      const events = await historyOf(executionArn as string);
      if (events.some((event) => event.type === 'MapRunStarted')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Act: stop it inside its first Map Run
    const stopped = await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by hand' })
    );
    const aborted = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const lastEvent = (
      await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }))
    ).events?.[0];
    faults.held = undefined;
    release();
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    const redriven = await settled(executionArn as string);

    // Assess
    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(aborted).toMatchObject({
      status: 'ABORTED',
      error: 'Operator',
      cause: 'stopped by hand',
      redriveStatus: 'REDRIVABLE',
    });
    expect(lastEvent).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator', cause: 'stopped by hand' },
    });
    expect(redriven).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
  });

  it('answers refused calls with AWS error shapes', async () => {
    // Prepare
    const unknown = 'arn:aws:states:us-east-1:000000000000:execution:strata-local-backfill:nope';
    const start = (request: { stateMachineArn?: string; name?: string; input?: string }) =>
      rejection(sfn.send(new StartExecutionCommand({ stateMachineArn: BACKFILL, ...request })));

    // Act
    const errors = {
      missing: await rejection(sfn.send(new DescribeExecutionCommand({ executionArn: unknown }))),
      badArn: await rejection(sfn.send(new DescribeExecutionCommand({ executionArn: 'nope' }))),
      noMachine: await start({
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:strata-local-nope',
      }),
      exists: await start({ name: 'api-backfill', input: '{"other":true}' }),
      badInput: await start({ name: 'api-bad-input', input: '{not json' }),
      badName: await start({ name: 'has space' }),
      badToken: await rejection(
        sfn.send(new ListExecutionsCommand({ stateMachineArn: BACKFILL, nextToken: 'zz' }))
      ),
      notRedrivable: await rejection(
        sfn.send(new RedriveExecutionCommand({ executionArn: unknown }))
      ),
    };
    const raw = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.DescribeExecution',
      },
      body: JSON.stringify({ executionArn: unknown }),
    });
    const described = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.DescribeExecution',
      },
      body: JSON.stringify({ executionArn: unknown.replace('nope', 'api-backfill') }),
    });
    const unsupported = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSStepFunctions.CreateStateMachine' },
      body: '{}',
    });

    // Assess: the SDK's own exception classes, AWS's messages, and the wire shape
    expect(errors.missing).toBeInstanceOf(ExecutionDoesNotExist);
    expect(errors.missing?.message).toBe(`Execution Does Not Exist: '${unknown}'`);
    expect(errors.badArn).toBeInstanceOf(InvalidArn);
    expect(errors.noMachine).toBeInstanceOf(StateMachineDoesNotExist);
    expect(errors.exists).toBeInstanceOf(ExecutionAlreadyExists);
    expect(errors.badInput).toBeInstanceOf(InvalidExecutionInput);
    expect(errors.badName).toBeInstanceOf(InvalidName);
    expect(errors.badToken).toBeInstanceOf(InvalidToken);
    expect(errors.notRedrivable).toBeInstanceOf(ExecutionDoesNotExist);
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({
      __type: 'ExecutionDoesNotExist',
      message: `Execution Does Not Exist: '${unknown}'`,
    });
    const body = (await described.json()) as { startDate: unknown; stopDate: unknown };
    expect(typeof body.startDate).toBe('number');
    expect(body.startDate).toBeLessThan(Date.now() / 1000 + 1);
    expect(body.startDate).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(unsupported.status).toBe(400);
    expect(await unsupported.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it("finds a stage's state machines by their names, and says when the stage has none", async () => {
    // Prepare
    const stage = (name: string) =>
      new StepFunctionsExecutions({ client: sfn, stage: name, pollMs: 10 });

    // Act
    const local = await stage('local').stateMachineArn('weekly-sync');
    const prod = await rejection(stage('prod').run('backfill', { name: 'never', input: {} }));

    // Assess
    expect(local).toBe(localMachineArn('weekly-sync'));
    expect(prod?.message).toBe(
      'no state machine strata-prod-backfill: is stage prod deployed in this account and region?'
    );
  });

  it('lists state machines, and executions newest first, filtered by status and paged', async () => {
    // Prepare: two more executions that fail at once (a feed name the plan refuses)
    for (const name of ['api-bad-feed-1', 'api-bad-feed-2']) {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: BACKFILL,
          name,
          input: JSON.stringify({ feed: 'Not A Feed', prefix: 'raw/x/' }),
        })
      );
      expect((await settled(executionArn as string)).status).toBe('FAILED');
    }

    // Act
    const machines = await sfn.send(new ListStateMachinesCommand({}));
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: BACKFILL, maxResults: 2, nextToken })
      );
      pages.push((page.executions ?? []).map((execution) => execution.name as string));
      nextToken = page.nextToken;
    } while (nextToken);
    const failed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: BACKFILL, statusFilter: 'FAILED' })
    );
    const succeeded = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: BACKFILL, statusFilter: 'SUCCEEDED' })
    );
    const pipeline = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: localMachineArn('pipeline') })
    );

    // Assess
    expect(machines.stateMachines?.map((machine) => machine.name)).toEqual([
      'strata-local-pipeline',
      'strata-local-backfill',
      'strata-local-weekly-sync',
    ]);
    expect(pages).toEqual([
      ['api-bad-feed-2', 'api-bad-feed-1'],
      ['api-stopped', 'api-backfill'],
    ]);
    expect(failed.executions?.map((execution) => execution.name)).toEqual([
      'api-bad-feed-2',
      'api-bad-feed-1',
    ]);
    expect(failed.executions?.[0]?.stopDate).toBeInstanceOf(Date);
    expect(succeeded.executions?.map((execution) => execution.name)).toEqual([
      'api-stopped',
      'api-backfill',
    ]);
    expect(pipeline.executions).toEqual([]);
  });
});
