import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '@strata/core/ports';
import {
  dataLimitExceeded,
  type LargestPayload,
  MAX_PAYLOAD_BYTES,
  payloadBytes,
} from './payloadLimit.js';

/**
 * Where a failed execution stopped: the top-level state that entered and never exited, which is
 * where RedriveExecution resumes it (redrive-executions.html).
 */
export interface RedrivePoint {
  state: string;
  /** The state's input as it entered. */
  input: unknown;
  /** The last Map Run the state started, when it is a Distributed Map: its manifest. */
  mapRun?: { Bucket: string; Key: string };
}

/** How a local execution ended, and the largest payload it (or a child of its maps) carried. */
export type LocalExecutionOutcome = (
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string; redrive?: RedrivePoint }
) & { largestPayload?: LargestPayload };

/** A Lambda function's code as the local executor calls it: event in, result out. */
export type LocalFunction = (event: unknown, functionName: string) => Promise<unknown>;

/** A nested execution to run, as a `states:startExecution` Task asks for it. */
export interface NestedExecutionRequest {
  /** `arn:aws:states:<region>:<account>:stateMachine:<name>` */
  stateMachineArn: string;
  /** The execution's name: the Task's `Name`, or a UUID as AWS generates one. */
  name: string;
  input: unknown;
}

/** The local stand-ins for the services the ASL files integrate with. */
export interface LocalIntegrations {
  /** Resolves a function name (the last part of its ARN) to its handler. */
  lambda(functionName: string): LocalFunction;
  sendMessage(queueUrl: string, body: string): Promise<void>;
  publish(topicArn: string, subject: string | undefined, message: string): Promise<void>;
  /**
   * The store for one S3 bucket, for a Distributed Map's ItemReader and ResultWriter. Optional so
   * executions without a Distributed Map need not provide it; a map that needs it fails with
   * States.ItemReaderFailed / States.ResultWriterFailed when it is missing.
   */
  objectStore?(bucket: string): ObjectStore;
  /**
   * Runs the state machine a `states:startExecution.sync:2` Task names, to its end, as an
   * execution of its own. Optional so executions that start none need not provide it.
   */
  startExecution?(request: NestedExecutionRequest): Promise<LocalExecutionOutcome>;
}

/** An Error whose `name` is a Step Functions error name, the name Retry and Catch match. */
export const named = (name: string, message: string): Error => {
  const error = new Error(message);
  error.name = name;
  return error;
};

/** Copies through JSON, as the service passes data. */
const jsonCopy = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));

/** Copies through JSON and enforces the payload limit, for payloads no Task handler returns. */
export const serialize = (value: unknown, what: string): unknown => {
  const copy = jsonCopy(value);
  if (payloadBytes(copy) > MAX_PAYLOAD_BYTES) throw dataLimitExceeded(what);
  return copy;
};

const record = (value: unknown): Record<string, unknown> =>
  (value ?? {}) as Record<string, unknown>;

/**
 * The handler for an optimized `lambda:invoke` Task, shaped as the service shapes it (the size
 * limit is the Task's, checked by the executor): the result is wrapped as `{ StatusCode, Payload, ExecutedVersion }`, and a function error surfaces with
 * the function's error name and a JSON `Cause` of `{ errorType, errorMessage }`.
 */
const lambdaInvoke = (integrations: LocalIntegrations) => async (input: unknown) => {
  const { FunctionName, Payload } = record(input);
  const functionName = String(FunctionName).split(':').pop() ?? '';
  const run = integrations.lambda(functionName);
  let result: unknown;
  try {
    result = await run(jsonCopy(Payload), functionName);
  } catch (error) {
    const cause = error instanceof Error ? error : new Error(String(error));
    throw named(cause.name, JSON.stringify({ errorType: cause.name, errorMessage: cause.message }));
  }
  return {
    ExecutedVersion: '$LATEST',
    StatusCode: 200,
    Payload: jsonCopy(result),
  };
};

const sqsSendMessage = (integrations: LocalIntegrations) => async (input: unknown) => {
  const { QueueUrl, MessageBody } = record(input);
  const body = typeof MessageBody === 'string' ? MessageBody : JSON.stringify(MessageBody);
  await integrations.sendMessage(String(QueueUrl), body);
  return { MessageId: randomUUID() };
};

const snsPublish = (integrations: LocalIntegrations) => async (input: unknown) => {
  const { TopicArn, Subject, Message } = record(input);
  const message = typeof Message === 'string' ? Message : JSON.stringify(Message);
  await integrations.publish(String(TopicArn), Subject as string | undefined, message);
  return { MessageId: randomUUID() };
};

/** A nested execution's ARN: the state machine's, with `execution:` and the name. */
const executionArnOf = (stateMachineArn: string, name: string): string => {
  const match = /^arn:aws:states:([a-z0-9-]+):(\d{12}):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (!match) {
    throw named('StepFunctions.InvalidArnException', `Invalid Arn: '${stateMachineArn}'`);
  }
  return `arn:aws:states:${match[1]}:${match[2]}:execution:${match[3]}:${name}`;
};

/** StartExecution's `Input`: a JSON string, or (as ASL allows) the JSON itself; `{}` if none. */
const executionInput = (input: unknown): unknown => {
  if (input === undefined) return {};
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw named('StepFunctions.InvalidExecutionInputException', `Invalid input: ${input}`);
    }
  }
  return serialize(value, 'the execution input');
};

/**
 * The handler for `states:startExecution.sync:2` (connect-stepfunctions.html): starts the state
 * machine as a nested execution, waits for its end and returns DescribeExecution's fields, with
 * `Input` and `Output` as JSON rather than strings (what `:2` adds over `.sync`) and the dates
 * in epoch milliseconds. A child that does not succeed fails the Task with `States.TaskFailed`
 * and that description, as a JSON string, for its Cause.
 */
const startExecutionSync2 = (integrations: LocalIntegrations) => async (input: unknown) => {
  const { StateMachineArn, Input, Name } = record(input);
  if (!integrations.startExecution) {
    throw named('States.Runtime', 'no local integration starts nested executions');
  }
  const stateMachineArn = String(StateMachineArn);
  const name = typeof Name === 'string' ? Name : randomUUID();
  const executionArn = executionArnOf(stateMachineArn, name);
  const childInput = executionInput(Input);
  const StartDate = Date.now();
  const outcome = await integrations.startExecution({ stateMachineArn, name, input: childInput });
  const description = {
    ExecutionArn: executionArn,
    Input: childInput,
    InputDetails: { Included: true },
    Name: name,
    ...(outcome.status === 'SUCCEEDED'
      ? { Output: outcome.output, OutputDetails: { Included: true } }
      : { Error: outcome.error, Cause: outcome.cause }),
    RedriveCount: 0,
    StartDate,
    StateMachineArn: stateMachineArn,
    Status: outcome.status,
    StopDate: Date.now(),
  };
  if (outcome.status !== 'SUCCEEDED') {
    throw named('States.TaskFailed', JSON.stringify(description));
  }
  return jsonCopy(description);
};

/** Task resources the local executor understands, and how each is served. */
export const INTEGRATIONS = {
  'arn:aws:states:::lambda:invoke': lambdaInvoke,
  'arn:aws:states:::sqs:sendMessage': sqsSendMessage,
  'arn:aws:states:::sns:publish': snsPublish,
  'arn:aws:states:::states:startExecution.sync:2': startExecutionSync2,
} as const satisfies Record<
  string,
  (integrations: LocalIntegrations) => (input: unknown) => Promise<unknown>
>;
