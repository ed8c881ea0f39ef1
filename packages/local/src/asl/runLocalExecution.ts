import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { INTEGRATIONS, type LocalIntegrations } from './LocalIntegrations.js';

type Json = Parameters<StateMachine['run']>[0];
type Definition = StateMachineDefinition;

/** One entry of the execution's event log (the library does not export the type by name). */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type State = Record<string, unknown>;

export interface LocalExecutionOptions {
  /** A rendered ASL definition (placeholders already filled). */
  definition: unknown;
  input: unknown;
  /** Becomes `$$.Execution.Name`, and so Strata's run id. */
  executionName: string;
  stateMachineName: string;
  /** `$$.Execution.StartTime`; now when omitted. */
  startTime?: string;
  integrations: LocalIntegrations;
  /** Called for every event of the execution's event log, in order. */
  onEvent?: (event: EventLog) => void;
  /** Milliseconds to wait between retries; defaults to none, so tests do not sleep. */
  retryIntervalMs?: number;
}

export type LocalExecutionOutcome =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string };

/** Every Task state, including those inside Map processors and Parallel branches. */
const taskStates = (states: Record<string, State>, found = new Map<string, State>()) => {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') {
      if (found.has(name)) {
        // The executor keys local handlers by state name across nesting levels.
        throw new Error(`state name ${name} is used twice; local execution needs unique names`);
      }
      found.set(name, state);
    }
    const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, State> };
    if (processor?.States) taskStates(processor.States, found);
    for (const branch of (state.Branches ?? []) as { States: Record<string, State> }[]) {
      taskStates(branch.States, found);
    }
  }
  return found;
};

/**
 * Binds every `"<field>.$": "$$.Execution.StartTime"` in the definition to a fixed time.
 *
 * aws-local-stepfunctions stamps `$$.Execution.StartTime` with the current time whatever context
 * it is given, but a redrive in AWS keeps the execution's start time; replaying one locally
 * needs the original, so the reference is turned into a literal.
 */
const pinStartTime = (node: unknown, startTime: string): unknown => {
  if (Array.isArray(node)) return node.map((item) => pinStartTime(item, startTime));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key.endsWith('.$') && value === '$$.Execution.StartTime'
        ? [key.slice(0, -2), startTime]
        : [key, pinStartTime(value, startTime)]
    )
  );
};

/**
 * Runs a real ASL definition with aws-local-stepfunctions, serving each Task's integration
 * locally (Lambda handlers, a dead-letter sink, an alert sink).
 *
 * @param options - definition, input, identity and the local integrations
 */
export const runLocalExecution = async (
  options: LocalExecutionOptions
): Promise<LocalExecutionOutcome> => {
  const definition = (
    options.startTime ? pinStartTime(options.definition, options.startTime) : options.definition
  ) as Definition & { States: Record<string, State> };
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of taskStates(definition.States)) {
    const resource = String(state.Resource);
    const integration = INTEGRATIONS[resource as keyof typeof INTEGRATIONS];
    if (!integration) {
      throw new Error(`state ${name}: resource ${resource} has no local integration`);
    }
    const serve = integration(options.integrations);
    handlers[name] = async (input) => (await serve(input)) as Json;
    if (state.Retry) retryIntervalOverrides[name] = options.retryIntervalMs ?? 0;
  }

  const startTime = options.startTime ?? new Date().toISOString();
  const executionArn = `arn:aws:states:us-east-1:000000000000:execution:${options.stateMachineName}:${options.executionName}`;
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true } });
  const execution = machine.run(options.input as Json, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    context: {
      Execution: {
        Id: executionArn,
        Name: options.executionName,
        StartTime: startTime,
        Input: options.input as Json,
        RoleArn: 'arn:aws:iam::000000000000:role/strata-local',
      },
      StateMachine: {
        Id: `arn:aws:states:us-east-1:000000000000:stateMachine:${options.stateMachineName}`,
        Name: options.stateMachineName,
      },
    },
  });

  let failure: { error: string; cause: string } | undefined;
  const drained = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'ExecutionFailed') {
        failure = { error: event.Error, cause: String(event.Cause ?? '') };
      }
      options.onEvent?.(event);
    }
  })();
  try {
    const output = await execution.result;
    await drained;
    return { status: 'SUCCEEDED', output };
  } catch (error) {
    await drained;
    return {
      status: 'FAILED',
      ...(failure ?? { error: (error as Error).name, cause: (error as Error).message }),
    };
  }
};
