import type { StateMachine } from 'aws-local-stepfunctions';
import type { Json } from './distributedMap/evaluate.js';

/** Step Functions caps a state's input and output, and a task's result, at 256 KiB. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** The size Step Functions measures a payload by: its JSON text in UTF-8. */
export const payloadBytes = (value: unknown): number =>
  Buffer.byteLength(JSON.stringify(value ?? null));

/**
 * The error of a payload over 256 KiB. It is terminal: `States.ALL` and `States.TaskFailed` do
 * not match it, only a Retry or Catch that names `States.DataLimitExceeded` itself
 * (concepts-error-handling.html).
 *
 * @param what - the state or task whose payload it was
 * @param namedByState - whether the state's Retry or Catch names the error
 */
export const dataLimitExceeded = (what: string, namedByState = false): Error =>
  // aws-local-stepfunctions matches any error with a wildcard unless the error says otherwise.
  Object.assign(
    new Error(
      `The state/task '${what}' returned a result with a size exceeding the maximum number of bytes service limit.`
    ),
    { name: 'States.DataLimitExceeded', isCatchable: namedByState, isRetryable: namedByState }
  );

/** The largest payload an execution saw, and where. */
export interface LargestPayload {
  bytes: number;
  /** The state (or `<state> input`, `<state> result`) that carried it. */
  at: string;
}

/**
 * Measures the payloads of one execution and keeps the largest; a child execution's watch
 * reports to its parent's too, so a Distributed Map's children count for the whole execution.
 */
export class PayloadWatch {
  readonly #parent: PayloadWatch | undefined;
  #largest: LargestPayload = { bytes: 0, at: '' };
  #stopped: Error | undefined;

  constructor(parent?: PayloadWatch) {
    this.#parent = parent;
  }

  get largest(): LargestPayload {
    return this.#largest;
  }

  /** The error that stopped the execution, once a state's output passed the limit. */
  get stopped(): Error | undefined {
    return this.#stopped;
  }

  /**
   * Records that the execution is being stopped with this error.
   *
   * @param error - States.DataLimitExceeded for the state whose output passed the limit
   */
  stop(error: Error): void {
    this.#stopped = error;
  }

  /** Throws the error that stopped the execution, so no later Task starts. */
  assertRunning(): void {
    if (this.#stopped) throw this.#stopped;
  }

  /**
   * Measures a payload and fails it over the limit.
   *
   * @param at - where it was seen
   * @param value - the payload
   * @param namedByState - whether the state handles `States.DataLimitExceeded` by name
   */
  check(at: string, value: unknown, namedByState = false): void {
    if (this.measure(at, value) > MAX_PAYLOAD_BYTES) throw dataLimitExceeded(at, namedByState);
  }

  /**
   * Measures a payload and returns its size.
   *
   * @param at - where it was seen
   * @param value - the payload
   */
  measure(at: string, value: unknown): number {
    const bytes = payloadBytes(value);
    this.#note({ bytes, at });
    return bytes;
  }

  #note(seen: LargestPayload): void {
    if (seen.bytes > this.#largest.bytes) this.#largest = seen;
    if (this.#parent) this.#parent.#note(seen);
  }
}

/** Local Task handlers keyed by state name, as aws-local-stepfunctions takes them. */
export type TaskHandlers = Record<string, (input: Json) => Promise<Json>>;

/** The execution handle `StateMachine.run` returns. */
type Execution = ReturnType<StateMachine['run']>;

/** One entry of an execution's event log (the library does not export the type by name). */
export type EventLog = Execution['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

type StateDefinition = { ErrorEquals?: string[] }[] | undefined;

/**
 * The Task states, at any depth of a definition's `States`, whose Retry or Catch names
 * `States.DataLimitExceeded`: only there is the error caught or retried.
 *
 * @param states - a definition's `States`
 */
export const statesNamingDataLimit = (
  states: Record<string, Record<string, unknown>>,
  found = new Set<string>()
): Set<string> => {
  for (const [name, state] of Object.entries(states)) {
    const handlers = [
      ...((state.Retry as StateDefinition) ?? []),
      ...((state.Catch as StateDefinition) ?? []),
    ];
    if (handlers.some((handler) => handler.ErrorEquals?.includes('States.DataLimitExceeded'))) {
      found.add(name);
    }
    const processor = (state.ItemProcessor ?? state.Iterator) as
      | { States?: Record<string, Record<string, unknown>> }
      | undefined;
    if (processor?.States) statesNamingDataLimit(processor.States, found);
    for (const branch of (state.Branches ?? []) as {
      States: Record<string, Record<string, unknown>>;
    }[]) {
      statesNamingDataLimit(branch.States, found);
    }
  }
  return found;
};

/**
 * Wraps Task handlers so each Task's input (after Parameters) and result are held to the limit,
 * and measured, by one execution's watch.
 *
 * @param handlers - the handlers by state name
 * @param watch - the execution's watch
 * @param naming - the states that name `States.DataLimitExceeded` (see statesNamingDataLimit)
 */
export const guardHandlers = (
  handlers: TaskHandlers,
  watch: PayloadWatch,
  naming: ReadonlySet<string>
): TaskHandlers =>
  Object.fromEntries(
    Object.entries(handlers).map(([name, serve]) => [
      name,
      async (input: Json) => {
        // The executor calls a Task's handler in the tick it logs the state before; one turn
        // lets monitorRun stop the execution first when that state's output was over the limit.
        await new Promise(setImmediate);
        watch.assertRunning();
        watch.check(`${name} input`, input, naming.has(name));
        const result = await serve(input);
        watch.check(name, result, naming.has(name));
        return result;
      },
    ])
  );

/**
 * Drains an execution's event log, measuring its input and every state's input and output; a
 * payload over the limit stops the execution with States.DataLimitExceeded, which no Catch sees.
 *
 * @param execution - what `StateMachine.run` returned, run with `noThrowOnAbort`
 * @param watch - the execution's watch
 * @param onEvent - called with every event, in order
 */
export const monitorRun = async (
  execution: Execution,
  watch: PayloadWatch,
  onEvent?: (event: EventLog) => void
): Promise<{ error: string; cause: string } | undefined> => {
  let failure: { error: string; cause: string } | undefined;
  for await (const event of execution.eventLogs) {
    if (event.type === 'ExecutionStarted') watch.measure('the execution input', event.input);
    // A state's input is its predecessor's output, already held to the limit, except where a
    // Map made it: an iteration's input is what its ItemSelector built.
    const [at, payload] =
      event.type === 'StateExited'
        ? [event.state.name, event.state.output]
        : event.type === 'StateEntered'
          ? [`${event.state.name} input`, event.state.input]
          : [undefined, undefined];
    if (at !== undefined && !watch.stopped) {
      if (watch.measure(at, payload) > MAX_PAYLOAD_BYTES) {
        watch.stop(dataLimitExceeded(at));
        execution.abort();
      }
    }
    if (event.type === 'ExecutionFailed') {
      failure = { error: event.Error, cause: String(event.Cause ?? '') };
    }
    onEvent?.(event);
  }
  const stopped = watch.stopped;
  return stopped ? { error: stopped.name, cause: stopped.message } : failure;
};
