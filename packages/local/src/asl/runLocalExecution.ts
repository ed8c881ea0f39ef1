import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  DISTRIBUTED_MAP_RESOURCE,
  rewriteDistributedMaps,
} from './distributedMap/rewriteDistributedMaps.js';
import {
  nameUuid,
  redriveMapRun,
  runDistributedMap,
  type TaskHandlers,
} from './distributedMap/runDistributedMap.js';
import type { DistributedMapState, ResultWriterOutput } from './distributedMap/shapes.js';
import {
  INTEGRATIONS,
  type LocalExecutionOutcome,
  type LocalIntegrations,
} from './LocalIntegrations.js';

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

type Identity = Pick<
  LocalExecutionOptions,
  | 'definition'
  | 'executionName'
  | 'stateMachineName'
  | 'startTime'
  | 'integrations'
  | 'retryIntervalMs'
> & { input?: unknown };

/**
 * Everything a run needs besides its input: the definition with each Distributed Map rewritten
 * into a Task (aws-local-stepfunctions has no Distributed Map and cannot override a Map state),
 * a local handler per Task state, and the context object.
 */
const prepare = (options: Identity) => {
  const pinned = (
    options.startTime ? pinStartTime(options.definition, options.startTime) : options.definition
  ) as Definition & { States: Record<string, State> };
  const maps = new Map<string, DistributedMapState>();
  const definition = {
    ...pinned,
    States: rewriteDistributedMaps(pinned.States, maps),
  } as Definition & { States: Record<string, State> };

  const startTime = options.startTime ?? new Date().toISOString();
  const executionArn = `arn:aws:states:us-east-1:000000000000:execution:${options.stateMachineName}:${options.executionName}`;
  const context = {
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
  };

  const handlers: TaskHandlers = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const tasks = taskStates(definition.States);
  // The processors of Distributed Maps left the definition with the rewrite; their Tasks are
  // served by the same flat map, which the children receive.
  for (const map of maps.values()) taskStates(map.ItemProcessor.States, tasks);
  for (const [name, state] of tasks) {
    const resource = String(state.Resource);
    if (state.Retry) retryIntervalOverrides[name] = options.retryIntervalMs ?? 0;
    const map = maps.get(name);
    if (resource === DISTRIBUTED_MAP_RESOURCE && map) {
      let runs = 0;
      handlers[name] = async (input) => {
        // Every entry into the state, a retry included, starts a new Map Run
        // (state-map-distributed.html, Retry); its id is derived so reruns are reproducible.
        runs += 1;
        return (await runDistributedMap({
          state: map,
          stateName: name,
          input,
          context,
          mapRunId: nameUuid(executionArn, name, runs),
          integrations: options.integrations,
          handlers,
          retryIntervalOverrides,
        })) as Json;
      };
      continue;
    }
    const integration = INTEGRATIONS[resource as keyof typeof INTEGRATIONS];
    if (!integration) {
      throw new Error(`state ${name}: resource ${resource} has no local integration`);
    }
    const serve = integration(options.integrations);
    handlers[name] = async (input) => (await serve(input)) as Json;
  }
  return { definition, handlers, retryIntervalOverrides, context, maps };
};

/**
 * Runs a real ASL definition with aws-local-stepfunctions, serving each Task's integration
 * locally (Lambda handlers, a dead-letter sink, an alert sink) and emulating each Distributed
 * Map (see distributedMap/README.md).
 *
 * @param options - definition, input, identity and the local integrations
 */
export const runLocalExecution = async (
  options: LocalExecutionOptions
): Promise<LocalExecutionOutcome> => {
  const { definition, handlers, retryIntervalOverrides, context } = prepare(options);
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true } });
  const execution = machine.run(options.input as Json, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    context,
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

export interface LocalMapRunRedriveOptions extends Identity {
  /** The Distributed Map state whose Map Run is redriven. */
  stateName: string;
  /** The Map's output of the run to redrive: where its manifest is. */
  resultWriterDetails: ResultWriterOutput['ResultWriterDetails'];
}

/**
 * Redrives one Map Run of a Distributed Map in a definition: reruns the FAILED and PENDING
 * children listed by its manifest with the same Task handlers `runLocalExecution` would use, and
 * writes a new result set (see `redriveMapRun` for what is and is not AWS's behaviour).
 *
 * @param options - the definition, the state, the manifest location and the local integrations
 */
export const redriveLocalMapRun = async (
  options: LocalMapRunRedriveOptions
): Promise<ResultWriterOutput> => {
  const { handlers, retryIntervalOverrides, context, maps } = prepare(options);
  const state = maps.get(options.stateName);
  if (!state) throw new Error(`state ${options.stateName} is not a Distributed Map`);
  return redriveMapRun({
    state,
    stateName: options.stateName,
    resultWriterDetails: options.resultWriterDetails,
    input: options.input,
    context,
    integrations: options.integrations,
    handlers,
    retryIntervalOverrides,
  });
};
