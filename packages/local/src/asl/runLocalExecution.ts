import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type LocalClock, realClock } from './clock.js';
import type { Json } from './distributedMap/evaluate.js';
import {
  DISTRIBUTED_MAP_RESOURCE,
  rewriteDistributedMaps,
} from './distributedMap/rewriteDistributedMaps.js';
import { nameUuid, redriveMapRun, runDistributedMap } from './distributedMap/runDistributedMap.js';
import type {
  DistributedMapState,
  MapRunReport,
  ResultWriterOutput,
} from './distributedMap/shapes.js';
import {
  INTEGRATIONS,
  type LocalExecutionOutcome,
  type LocalIntegrations,
  named,
  type RedrivePoint,
} from './LocalIntegrations.js';
import {
  type EventLog,
  guardHandlers,
  monitorRun,
  PayloadWatch,
  statesNamingDataLimit,
  type TaskHandlers,
} from './payloadLimit.js';

export type { EventLog };

type Definition = StateMachineDefinition;
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
  /**
   * How long one of AWS's seconds lasts here, for Retry waits (IntervalSeconds, BackoffRate,
   * MaxDelaySeconds and JitterStrategy as written): 1, the default, waits as AWS does; tests
   * pass e.g. 0.001. Never 0: a retry that does not wait is not what runs in AWS.
   */
  timeScale?: number;
  /** The clock the 5-minute limit of EXPRESS map children is measured on; real time if unset. */
  clock?: LocalClock;
  /** Told how each Map Run of a Distributed Map stands, as it starts and as it ends. */
  onMapRunReport?: (report: MapRunReport) => void;
  /**
   * Stops the execution, as StopExecution does: no state starts after it, and the execution
   * ends FAILED with States.Aborted, redrivable from the state it was in. A Task already running
   * goes on to its end, as a Lambda does in AWS.
   */
  signal?: AbortSignal;
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
 * The states with every Retry's IntervalSeconds and MaxDelaySeconds multiplied by `scale`, at
 * any depth; the executor then waits interval × BackoffRate^attempt, capped and jittered as AWS
 * does, in local seconds.
 *
 * @param states - a definition's `States`
 * @param scale - local seconds per AWS second
 */
export const scaleRetries = (
  states: Record<string, State>,
  scale: number
): Record<string, State> => {
  if (!(scale > 0)) throw new Error(`timeScale must be above 0, got ${scale}`);
  const scaled = (processor: unknown) => {
    const { States, ...rest } = processor as { States: Record<string, State> };
    return { ...rest, States: scaleRetries(States, scale) };
  };
  return Object.fromEntries(
    Object.entries(states).map(([name, state]) => {
      const copy: State = { ...state };
      if (Array.isArray(state.Retry)) {
        copy.Retry = (state.Retry as State[]).map((retrier) => ({
          ...retrier,
          // 1 s is the documented default interval.
          IntervalSeconds: ((retrier.IntervalSeconds as number | undefined) ?? 1) * scale,
          ...(retrier.MaxDelaySeconds === undefined
            ? {}
            : { MaxDelaySeconds: (retrier.MaxDelaySeconds as number) * scale }),
        }));
      }
      if (state.ItemProcessor) copy.ItemProcessor = scaled(state.ItemProcessor);
      if (state.Iterator) copy.Iterator = scaled(state.Iterator);
      if (Array.isArray(state.Branches)) copy.Branches = state.Branches.map(scaled);
      return [name, copy];
    })
  );
};

/**
 * Binds every `"<field>.$": "$$.Execution.<name>"` in the definition to a fixed value.
 *
 * aws-local-stepfunctions sets `$$.Execution.StartTime` to the current time and
 * `$$.Execution.Input` to the input of the run whatever context it is given, but a redrive in
 * AWS keeps the execution's start time and input while it resumes from a later state, so the
 * references are turned into literals.
 */
const pinExecution = (node: unknown, values: Readonly<Record<string, unknown>>): unknown => {
  if (Array.isArray(node)) return node.map((item) => pinExecution(item, values));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key.endsWith('.$') && typeof value === 'string' && value in values
        ? [key.slice(0, -2), values[value]]
        : [key, pinExecution(value, values)]
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
  | 'timeScale'
  | 'clock'
  | 'onMapRunReport'
  | 'signal'
> & { input?: unknown };

/**
 * Everything a run needs besides its input: the definition with each Distributed Map rewritten
 * into a Task (aws-local-stepfunctions has no Distributed Map and cannot override a Map state),
 * a local handler per Task state, and the context object.
 */
const prepare = (options: Identity, resume?: RedrivePoint) => {
  const pins: Record<string, unknown> = {};
  if (options.startTime) pins['$$.Execution.StartTime'] = options.startTime;
  if (resume) pins['$$.Execution.Input'] = options.input;
  const pinned = {
    ...(pinExecution(options.definition, pins) as Definition),
    ...(resume ? { StartAt: resume.state } : {}),
  } as Definition & { States: Record<string, State> };
  const maps = new Map<string, DistributedMapState>();
  const definition = {
    ...pinned,
    States: rewriteDistributedMaps(scaleRetries(pinned.States, options.timeScale ?? 1), maps),
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
  const watch = new PayloadWatch();
  /** The last Map Run each Distributed Map started: what a redrive of a failed one resumes. */
  const mapRuns = new Map<string, ResultWriterOutput['ResultWriterDetails']>();
  const tasks = taskStates(definition.States);
  // The processors of Distributed Maps left the definition with the rewrite; their Tasks are
  // served by the same flat map, which the children receive.
  for (const map of maps.values()) taskStates(map.ItemProcessor.States, tasks);
  for (const [name, state] of tasks) {
    const resource = String(state.Resource);
    const map = maps.get(name);
    if (resource === DISTRIBUTED_MAP_RESOURCE && map) {
      let runs = 0;
      // A redrive resumes the failed Map Run once (redrive-map-run.html); later entries, a
      // retry included, start new ones.
      let resumed = resume?.state === name ? resume.mapRun : undefined;
      handlers[name] = async (input) => {
        const shared = {
          state: map,
          stateName: name,
          input,
          context,
          integrations: options.integrations,
          handlers,
          watch,
          clock: options.clock ?? realClock,
          onMapRun: (details: ResultWriterOutput['ResultWriterDetails']) =>
            mapRuns.set(name, details),
          onMapRunReport: options.onMapRunReport,
          signal: options.signal,
        };
        if (resumed) {
          const resultWriterDetails = resumed;
          resumed = undefined;
          return (await redriveMapRun({ ...shared, resultWriterDetails })) as unknown as Json;
        }
        // Every entry into the state, a retry included, starts a new Map Run
        // (state-map-distributed.html, Retry); its id is derived so reruns are reproducible.
        runs += 1;
        return (await runDistributedMap({
          ...shared,
          mapRunId: nameUuid(executionArn, name, runs, resume ? 'redriven' : ''),
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
  const guarded = guardHandlers(handlers, watch, statesNamingDataLimit(definition.States));
  return { definition, guarded, watch, context, mapRuns };
};

/** Runs a prepared definition from its StartAt, or from where a redrive resumes it. */
const execute = async (
  options: LocalExecutionOptions,
  resume?: RedrivePoint
): Promise<LocalExecutionOutcome> => {
  const { definition, guarded, watch, context, mapRuns } = prepare(options, resume);
  const machine = new StateMachine(definition, {
    // The first run validated the definition; from a later StartAt, earlier states look
    // unreachable to the validator.
    validationOptions: resume ? { noValidate: true } : { checkArn: true },
  });
  const execution = machine.run((resume ? resume.input : options.input) as Json, {
    overrides: { taskResourceLocalHandlers: guarded },
    context,
    noThrowOnAbort: true,
  });
  // The top-level state that entered and has not exited: where a redrive would resume.
  let entered: { state: string; input: unknown } | undefined;
  const monitored = monitorRun(execution, watch, (event) => {
    const topLevel =
      (event.type === 'StateEntered' || event.type === 'StateExited') &&
      event.index === undefined &&
      event.state.name in definition.States;
    // A state stopped for its output's size did exit in the executor, but failed in AWS.
    if (topLevel && !(event.type === 'StateExited' && watch.stopped)) {
      entered =
        event.type === 'StateEntered'
          ? { state: event.state.name, input: event.state.input }
          : undefined;
    }
    options.onEvent?.(event);
  });
  const ended = (failure: { error: string; cause: string }): LocalExecutionOutcome => ({
    status: 'FAILED',
    ...failure,
    ...(entered
      ? {
          redrive: {
            ...entered,
            ...(mapRuns.has(entered.state) ? { mapRun: mapRuns.get(entered.state) } : {}),
          },
        }
      : {}),
    largestPayload: watch.largest,
  });
  const abort = () => execution.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const output = await execution.result;
    const failure = await monitored;
    if (options.signal?.aborted) return ended(aborted(options.signal));
    if (failure) return ended(failure);
    return { status: 'SUCCEEDED', output, largestPayload: watch.largest };
  } catch (error) {
    if (options.signal?.aborted) return ended(aborted(options.signal));
    return ended(
      (await monitored) ?? { error: (error as Error).name, cause: (error as Error).message }
    );
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
};

/** The failure of an execution that was stopped: the error and cause StopExecution was given. */
const aborted = (signal: AbortSignal): { error: string; cause: string } => {
  const reason = (signal.reason ?? {}) as { error?: string; cause?: string };
  return { error: reason.error ?? 'States.Aborted', cause: reason.cause ?? 'Execution stopped' };
};

/**
 * Runs a real ASL definition with aws-local-stepfunctions, serving each Task's integration
 * locally (Lambda handlers, a dead-letter sink, an alert sink) and emulating each Distributed
 * Map (see distributedMap/README.md).
 *
 * @param options - definition, input, identity and the local integrations
 */
export const runLocalExecution = (options: LocalExecutionOptions): Promise<LocalExecutionOutcome> =>
  execute(options);

export interface LocalRedriveOptions extends LocalExecutionOptions {
  /** `$$.Execution.StartTime` of the execution to redrive, which a redrive keeps. */
  startTime: string;
  /** How the execution ended. */
  outcome: LocalExecutionOutcome;
}

/**
 * Redrives a failed execution as RedriveExecution does (redrive-executions.html): only an
 * execution that did not succeed, with the same name, input and start time, resumed at the
 * state that failed with the input that state had; a Distributed Map that failed resumes its
 * Map Run, rerunning only the FAILED and PENDING children, which is the one way to redrive a
 * Map Run (redrive-map-run.html). An execution that succeeded fails the call with
 * StepFunctions.ExecutionNotRedrivable, as in AWS.
 *
 * @param options - the execution as it was started, and how it ended
 */
export const redriveLocalExecution = async (
  options: LocalRedriveOptions
): Promise<LocalExecutionOutcome> => {
  const { outcome } = options;
  if (outcome.status !== 'FAILED') {
    throw named(
      'StepFunctions.ExecutionNotRedrivable',
      `Execution is ${outcome.status} and cannot be redriven`
    );
  }
  if (!outcome.redrive) {
    throw named(
      'StepFunctions.ExecutionNotRedrivable',
      'Execution failed before any state started and cannot be redriven'
    );
  }
  return execute(options, outcome.redrive);
};
