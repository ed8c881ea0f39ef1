import { readdir, readFile } from 'node:fs/promises';
import { placeholdersOf, renderAsl } from '@strata/core/asl';
import { ErrorName } from '@strata/core/errors';
import { localBindings, MACHINES } from '@strata/local/runtime';
import validator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  functionTimeouts,
  lambdaTimeoutProblems,
  retryCatchProblems,
  unboundPlaceholders,
  unknownErrorNames,
} from './support/aslChecks.js';

const root = new URL('../', import.meta.url);
let stacksSource = '';
let machines: { file: string; template: string }[] = [];

/** Well-formed AWS values for every placeholder, as a deploy would bind them. */
const awsBindings = (placeholders: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    Object.entries(localBindings(placeholders)).map(([name, value]) => [
      name,
      value
        .replace('000000000000', '123456789012')
        .replace('http://127.0.0.1/', 'https://sqs.us-east-1.amazonaws.com/'),
    ])
  );

beforeAll(async () => {
  const stackFiles = (await readdir(new URL('stacks/', root))).filter((f) => f.endsWith('.ts'));
  stacksSource = (
    await Promise.all(stackFiles.map((f) => readFile(new URL(`stacks/${f}`, root), 'utf8')))
  ).join('\n');
  const files = (await readdir(new URL('statemachines/', root))).filter((f) =>
    f.endsWith('.asl.json')
  );
  machines = await Promise.all(
    files.map(async (file) => ({
      file,
      template: await readFile(new URL(`statemachines/${file}`, root), 'utf8'),
    }))
  );
});

describe('statemachines/*.asl.json', () => {
  it('finds every state machine, and the embedded runtime can run each', () => {
    // Assess
    const files = machines.map((machine) => machine.file).sort();
    expect(files).toEqual(expect.arrayContaining(['pipeline.asl.json', 'weekly-sync.asl.json']));
    expect(MACHINES.map((name) => `${name}.asl.json`).sort()).toEqual(files);
  });

  it('binds every placeholder in stacks/', () => {
    for (const { file, template } of machines) {
      // Act
      const unbound = unboundPlaceholders(placeholdersOf(template), stacksSource);

      // Assess
      expect(unbound, file).toEqual([]);
    }
  });

  it('validates with asl-validator once the placeholders are filled', () => {
    for (const { file, template } of machines) {
      // Prepare
      const definition = renderAsl(template, awsBindings(placeholdersOf(template)));

      // Act
      const result = validator(definition);

      // Assess
      expect(result.errorsText(), file).toBe('');
      expect(result.isValid, file).toBe(true);
    }
  });

  it('gives every Task a Retry with backoff and jitter and every top-level state a Catch', () => {
    for (const { file, template } of machines) {
      // Prepare
      const definition = renderAsl(template, awsBindings(placeholdersOf(template))) as {
        States: Record<string, Record<string, unknown>>;
      };

      // Act
      const problems = retryCatchProblems(definition.States);

      // Assess
      expect(problems, file).toEqual([]);
    }
  });

  it('gives every Lambda Task a timeout past that of its function, so no retry runs beside it', () => {
    for (const { file, template } of machines) {
      // Prepare
      const definition = JSON.parse(template) as {
        States: Record<string, Record<string, unknown>>;
      };

      // Act
      const problems = lambdaTimeoutProblems(definition.States, functionTimeouts(stacksSource));

      // Assess
      expect(problems, file).toEqual([]);
    }
  });

  it('reports a Lambda Task that gives up before its function or retries States.Timeout', () => {
    // Prepare
    const task = (TimeoutSeconds?: number) => ({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an ASL placeholder, as templates write it
      Parameters: { FunctionName: '${FlattenBatchFunctionArn}' },
      ...(TimeoutSeconds === undefined ? {} : { TimeoutSeconds }),
      Retry: [
        {
          ErrorEquals: [
            'Lambda.ServiceException',
            'Lambda.TooManyRequestsException',
            'States.Timeout',
          ],
          BackoffRate: 2,
          JitterStrategy: 'FULL',
        },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }],
      End: true,
    });
    const states = { Equal: task(900), Unset: task(), Longer: task(960) };

    // Act
    const timeouts = lambdaTimeoutProblems(
      states,
      functionTimeouts(
        "stageFunction('FlattenBatch', 'functions/flatten-batch.handler', {\n  timeout: '15 minutes',"
      )
    );
    const retries = retryCatchProblems({ Longer: states.Longer });

    // Assess
    expect(timeouts).toEqual([
      "Equal: TimeoutSeconds 900 does not exceed FlattenBatch's timeout of 900 s",
      "Unset: TimeoutSeconds 60 does not exceed FlattenBatch's timeout of 900 s",
    ]);
    expect(retries).toEqual([
      'Longer: Retry on States.Timeout would run beside the invocation still running',
    ]);
  });

  it('matches only on Strata error names the errors module defines', () => {
    for (const { file, template } of machines) {
      // Prepare
      const definition = JSON.parse(template) as {
        States: Record<string, Record<string, unknown>>;
      };

      // Act
      const unknown = unknownErrorNames(definition.States, Object.values(ErrorName));

      // Assess
      expect(unknown, file).toEqual([]);
    }
  });

  it('reports a placeholder whose binding is removed from stacks/', () => {
    // Prepare
    const pipeline = machines.find((machine) => machine.file === 'pipeline.asl.json');
    const withoutDlq = stacksSource.replace(/^\s*DeadLetterQueueUrl\s*:.*$/gm, '');

    // Act
    const unbound = unboundPlaceholders(placeholdersOf(pipeline?.template ?? ''), withoutDlq);

    // Assess
    expect(unbound).toEqual(['DeadLetterQueueUrl']);
  });

  it('refuses to render a definition with a placeholder left unfilled', () => {
    // Prepare
    const pipeline = machines.find((machine) => machine.file === 'pipeline.asl.json');
    const bindings = awsBindings(placeholdersOf(pipeline?.template ?? ''));
    delete bindings.AlertTopicArn;

    // Act
    const attempt = () => renderAsl(pipeline?.template ?? '', bindings);

    // Assess
    expect(attempt).toThrow('asl: no value for placeholder(s) AlertTopicArn');
  });

  it('reports a Task without Retry and a lambda Retry without jitter', () => {
    // Prepare
    const states = {
      Bare: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true },
      NoJitter: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Retry: [
          {
            ErrorEquals: ['Lambda.ServiceException', 'Lambda.TooManyRequestsException'],
            BackoffRate: 2,
          },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Bare' }],
        End: true,
      },
    };

    // Act
    const problems = retryCatchProblems(states);

    // Assess
    expect(problems).toEqual([
      'Bare: no Retry',
      'Bare: no Catch',
      'NoJitter: Retry without full jitter',
    ]);
  });

  it('reports a nested execution without a timeout that retries a child that failed', () => {
    // Prepare
    const states = {
      Nested: {
        Type: 'Task',
        Resource: 'arn:aws:states:::states:startExecution.sync:2',
        Retry: [
          {
            ErrorEquals: ['StepFunctions.ExecutionLimitExceededException', 'States.TaskFailed'],
            BackoffRate: 2,
            JitterStrategy: 'FULL',
          },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Nested' }],
        End: true,
      },
    };

    // Act
    const problems = retryCatchProblems(states);

    // Assess
    expect(problems).toEqual([
      'Nested: nested execution without TimeoutSeconds',
      'Nested: Retry on States.TaskFailed would run the nested execution again',
    ]);
  });
});
