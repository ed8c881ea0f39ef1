import { describe, expect, it } from 'vitest';
import type { LocalFunction, LocalIntegrations } from './LocalIntegrations.js';
import { runLocalExecution } from './runLocalExecution.js';

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
    expect(outcome).toEqual({ status: 'SUCCEEDED', output: { result: { doubled: 42 } } });
  });

  it('retries by error name without waiting, then catches with a Lambda-shaped cause', async () => {
    // Prepare
    let calls = 0;
    const sent: string[] = [];
    const work: LocalFunction = async () => {
      calls += 1;
      throw failWith('Strata.Transient', 'try later');
    };

    // Act
    const started = Date.now();
    const outcome = await runLocalExecution({
      definition: definition(),
      input: { value: 1 },
      executionName: 'retry',
      stateMachineName: 'test',
      integrations: integrations(work, sent),
    });

    // Assess
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(calls).toBe(3);
    expect(outcome).toEqual({
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

  it('fails a state whose result exceeds 256 KiB with States.DataLimitExceeded', async () => {
    // Prepare
    const work: LocalFunction = async () => ({ blob: 'x'.repeat(300 * 1024) });

    // Act
    const outcome = await runLocalExecution({
      definition: definition(),
      input: { value: 1 },
      executionName: 'big',
      stateMachineName: 'test',
      integrations: integrations(work),
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
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
});
