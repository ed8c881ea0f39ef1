import { describe, expect, it } from 'vitest';
import type { LocalFunction, LocalIntegrations } from './LocalIntegrations.js';
import { runLocalExecution, scaleRetries } from './runLocalExecution.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:Work';

/** A one-Task machine calling `Work`, with a Retry on Strata.Transient and a catch-all Catch. */
const definition = (payload: Record<string, unknown> = { 'value.$': '$.value' }) => ({
  StartAt: 'Work',
  States: {
    Work: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: FUNCTION_ARN, Payload: payload },
      ResultSelector: { 'result.$': '$.Payload' },
      Retry: [{ ErrorEquals: ['Strata.Transient'], MaxAttempts: 2, IntervalSeconds: 5 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Report' }],
      End: true,
    },
    Report: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage',
      Parameters: { QueueUrl: 'http://queue', 'MessageBody.$': '$.failure' },
      ResultPath: null,
      Next: 'Failed',
    },
    Failed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
  },
});

const integrations = (work: LocalFunction, sent: string[] = []): LocalIntegrations => ({
  lambda: (name) => {
    if (name !== 'Work') throw new Error(`unexpected function ${name}`);
    return work;
  },
  sendMessage: async (_url, body) => {
    sent.push(body);
  },
  publish: async () => undefined,
});

const failWith = (name: string, message: string): Error =>
  Object.assign(new Error(message), { name });

describe('Function: runLocalExecution', () => {
  it('wraps a handler result as the lambda:invoke integration does', async () => {
    // Prepare
    const work: LocalFunction = async (event) => ({
      doubled: (event as { value: number }).value * 2,
    });

    // Act
    const outcome = await runLocalExecution({
      definition: definition(),
      input: { value: 21 },
      executionName: 'ok',
      stateMachineName: 'test',
      integrations: integrations(work),
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { result: { doubled: 42 } } });
  });

  it('retries by error name in scaled time, then catches with a Lambda-shaped cause', async () => {
    // Prepare
    let calls = 0;
    const sent: string[] = [];
    const work: LocalFunction = async () => {
      calls += 1;
      throw failWith('Strata.Transient', 'try later');
    };

    // Act
    const outcome = await runLocalExecution({
      definition: definition(),
      input: { value: 1 },
      executionName: 'retry',
      stateMachineName: 'test',
      integrations: integrations(work, sent),
      timeScale: 0.001,
    });

    // Assess
    expect(calls).toBe(3);
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'Strata.Transient',
      cause: JSON.stringify({ errorType: 'Strata.Transient', errorMessage: 'try later' }),
    });
    expect(sent.map((body) => JSON.parse(body))).toEqual([
      {
        Error: 'Strata.Transient',
        Cause: JSON.stringify({ errorType: 'Strata.Transient', errorMessage: 'try later' }),
      },
    ]);
  });

  it('reports a plain Error under its own name, as Lambda does', async () => {
    // Prepare
    const work: LocalFunction = async () => {
      throw new Error('boom');
    };

    // Act
    const outcome = await runLocalExecution({
      definition: definition(),
      input: { value: 1 },
      executionName: 'plain',
      stateMachineName: 'test',
      integrations: integrations(work),
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'Error' });
  });

  it('fails a Task whose result exceeds 256 KiB with States.DataLimitExceeded, which States.ALL does not catch', async () => {
    // Prepare
    const sent: string[] = [];
    const work: LocalFunction = async () => ({ blob: 'x'.repeat(300 * 1024) });

    // Act
    const outcome = await runLocalExecution({
      definition: definition(),
      input: { value: 1 },
      executionName: 'big',
      stateMachineName: 'test',
      integrations: integrations(work, sent),
    });

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Work' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect(sent).toEqual([]);
  });

  it('catches States.DataLimitExceeded where a Catch names it', async () => {
    // Prepare
    const sent: string[] = [];
    const work: LocalFunction = async () => ({ blob: 'x'.repeat(300 * 1024) });
    const named = definition();
    named.States.Work.Catch = [
      { ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.failure', Next: 'Report' },
    ];

    // Act
    const outcome = await runLocalExecution({
      definition: named,
      input: { value: 1 },
      executionName: 'big-named',
      stateMachineName: 'test',
      integrations: integrations(work, sent),
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(sent.map((body) => JSON.parse(body).Error)).toEqual(['States.DataLimitExceeded']);
  });

  it('stops the execution when a state output passes 256 KiB, before the next Task runs', async () => {
    // Prepare
    let calls = 0;
    const work: LocalFunction = async () => {
      calls += 1;
      return {};
    };
    const grow = {
      StartAt: 'Grow',
      States: {
        Grow: { Type: 'Pass', Result: 'x'.repeat(300 * 1024), ResultPath: '$.blob', Next: 'Work' },
        Work: { ...definition().States.Work, Catch: undefined },
      },
    };

    // Act
    const outcome = await runLocalExecution({
      definition: grow,
      input: { value: 1 },
      executionName: 'grow',
      stateMachineName: 'test',
      integrations: integrations(work),
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(calls).toBe(0);
  });

  it("fails an inline Map whose iteration's input passes 256 KiB, before the iteration's Task runs", async () => {
    // Prepare: each iteration gets the 150 KiB value twice from its ItemSelector; the
    // execution's input, the Map's output and every Task result stay small
    let calls = 0;
    const work: LocalFunction = async () => {
      calls += 1;
      return {};
    };
    const fanOut = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemSelector: { 'a.$': '$.big', 'b.$': '$.big' },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Work',
            States: { Work: { ...definition({}).States.Work, Catch: undefined, End: true } },
          },
          ResultPath: null,
          End: true,
        },
      },
    };

    // Act
    const outcome = await runLocalExecution({
      definition: fanOut,
      input: { items: [1, 2], big: 'x'.repeat(150 * 1024) },
      executionName: 'fan-out',
      stateMachineName: 'test',
      integrations: integrations(work),
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(calls).toBe(0);
  });

  it('reports the largest payload the execution carried and where', async () => {
    // Prepare
    const work: LocalFunction = async () => ({ blob: 'x'.repeat(10_000) });

    // Act
    const outcome = await runLocalExecution({
      definition: definition(),
      input: { value: 1 },
      executionName: 'largest',
      stateMachineName: 'test',
      integrations: integrations(work),
    });

    // Assess
    expect(outcome.largestPayload?.bytes).toBeGreaterThan(10_000);
    expect(outcome.largestPayload?.bytes).toBeLessThan(10_200);
    expect(outcome.largestPayload?.at).toMatch(/^Work/);
  });

  it('scales Retry intervals and delays, at any depth, and refuses a scale of 0', () => {
    // Prepare
    const states = {
      Map: {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'Inner',
          States: {
            Inner: {
              Type: 'Task',
              Retry: [
                { ErrorEquals: ['X'], IntervalSeconds: 2, MaxDelaySeconds: 60, BackoffRate: 2 },
              ],
            },
          },
        },
        Retry: [{ ErrorEquals: ['Y'] }],
      },
    };

    // Act
    const scaled = scaleRetries(states, 0.01);

    // Assess
    expect(scaled.Map?.Retry).toEqual([{ ErrorEquals: ['Y'], IntervalSeconds: 0.01 }]);
    expect(
      (scaled.Map?.ItemProcessor as { States: { Inner: { Retry: unknown } } } | undefined)?.States
        .Inner.Retry
    ).toEqual([
      { ErrorEquals: ['X'], IntervalSeconds: 0.02, MaxDelaySeconds: 0.6, BackoffRate: 2 },
    ]);
    expect(() => scaleRetries(states, 0)).toThrow('timeScale must be above 0');
  });

  it('passes a pinned start time where the definition reads $$.Execution.StartTime', async () => {
    // Prepare
    const seen: unknown[] = [];
    const work: LocalFunction = async (event) => {
      seen.push(event);
      return {};
    };

    // Act
    await runLocalExecution({
      definition: definition({
        'startedAt.$': '$$.Execution.StartTime',
        'name.$': '$$.Execution.Name',
      }),
      input: {},
      executionName: 'redrive-me',
      stateMachineName: 'test',
      startTime: '2026-01-02T03:04:05.000Z',
      integrations: integrations(work),
    });

    // Assess
    expect(seen).toEqual([{ startedAt: '2026-01-02T03:04:05.000Z', name: 'redrive-me' }]);
  });

  it('refuses a Task resource it cannot serve locally', async () => {
    // Prepare
    const machine = definition();
    (machine.States.Work as { Resource: string }).Resource = 'arn:aws:states:::dynamodb:putItem';

    // Act
    const attempt = runLocalExecution({
      definition: machine,
      input: {},
      executionName: 'unknown',
      stateMachineName: 'test',
      integrations: integrations(async () => ({})),
    });

    // Assess
    await expect(attempt).rejects.toThrow(
      'state Work: resource arn:aws:states:::dynamodb:putItem has no local integration'
    );
  });

  describe('with a states:startExecution.sync:2 Task', () => {
    const CHILD_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:child';

    /** A parent that starts `child` with the given Input and keeps the whole description. */
    const parent = (input: unknown, stateMachineArn = CHILD_ARN) => ({
      StartAt: 'StartChild',
      States: {
        StartChild: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: { StateMachineArn: stateMachineArn, Name: 'child-run', Input: input },
          End: true,
        },
      },
    });

    /** Local integrations whose nested executions run `work` as the child's only Task. */
    const nesting = (work: LocalFunction): LocalIntegrations => ({
      ...integrations(work),
      startExecution: ({ name, input }) =>
        runLocalExecution({
          definition: definition({ 'value.$': '$.value' }),
          input,
          executionName: name,
          stateMachineName: 'child',
          integrations: integrations(work),
        }),
    });

    it.each([
      ['a JSON object', { value: 20 }],
      ['a JSON string', '{"value": 20}'],
    ])(
      'returns the child as DescribeExecution with Input and Output parsed, given %s',
      async (_label, input) => {
        // Prepare
        const work: LocalFunction = async (event) => ({
          next: (event as { value: number }).value + 1,
        });

        // Act
        const outcome = await runLocalExecution({
          definition: parent(input),
          input: {},
          executionName: 'parent',
          stateMachineName: 'test',
          integrations: nesting(work),
        });

        // Assess
        expect(outcome).toMatchObject({
          status: 'SUCCEEDED',
          output: {
            ExecutionArn: 'arn:aws:states:us-east-1:000000000000:execution:child:child-run',
            Input: { value: 20 },
            InputDetails: { Included: true },
            Name: 'child-run',
            Output: { result: { next: 21 } },
            OutputDetails: { Included: true },
            RedriveCount: 0,
            StartDate: expect.any(Number),
            StateMachineArn: CHILD_ARN,
            Status: 'SUCCEEDED',
            StopDate: expect.any(Number),
          },
        });
      }
    );

    it('fails with States.TaskFailed and the failed child described in the Cause', async () => {
      // Prepare
      const work: LocalFunction = async () => {
        throw failWith('Strata.BadInput', 'no such feed');
      };

      // Act
      const outcome = await runLocalExecution({
        definition: parent({ value: 1 }),
        input: {},
        executionName: 'parent',
        stateMachineName: 'test',
        integrations: nesting(work),
      });

      // Assess
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
      const cause = JSON.parse(outcome.status === 'FAILED' ? outcome.cause : '{}');
      expect(cause).toEqual({
        ExecutionArn: 'arn:aws:states:us-east-1:000000000000:execution:child:child-run',
        Input: { value: 1 },
        InputDetails: { Included: true },
        Name: 'child-run',
        Error: 'Strata.BadInput',
        Cause: JSON.stringify({ errorType: 'Strata.BadInput', errorMessage: 'no such feed' }),
        RedriveCount: 0,
        StartDate: expect.any(Number),
        StateMachineArn: CHILD_ARN,
        Status: 'FAILED',
        StopDate: expect.any(Number),
      });
    });

    it('fails with StepFunctions.InvalidArnException on a malformed state machine ARN', async () => {
      // Act
      const outcome = await runLocalExecution({
        definition: parent({}, 'child'),
        input: {},
        executionName: 'parent',
        stateMachineName: 'test',
        integrations: nesting(async () => ({})),
      });

      // Assess
      expect(outcome).toMatchObject({
        status: 'FAILED',
        error: 'StepFunctions.InvalidArnException',
      });
    });
  });
});
