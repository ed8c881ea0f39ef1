import type { MapRunReport } from '../asl/distributedMap/shapes.js';
import type { EventLog } from '../asl/runLocalExecution.js';

/**
 * One event of GetExecutionHistory (API reference, HistoryEvent): `type` is one of AWS's
 * HistoryEventType values, ids count from 1, `previousEventId` is the event that led to it, and
 * the details sit under the field AWS names after the type (`taskFailedEventDetails`).
 */
export interface HistoryEvent {
  timestamp: Date;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

/** How a state of the definition shows in the history. */
interface StateKind {
  /** The ASL Type; a Distributed Map stays a Map here, though the executor runs a Task. */
  type: string;
  /** A Task's integration: `lambda:invoke` → resourceType `lambda`, resource `invoke`. */
  resourceType?: string;
  resource?: string;
}

type States = Record<string, Record<string, unknown>>;

/**
 * Every state of a definition, at any depth, with the Type AWS shows it as.
 *
 * @param states - a definition's `States`
 */
export const stateKinds = (states: States, found = new Map<string, StateKind>()) => {
  for (const [name, state] of Object.entries(states)) {
    const resource = /^arn:aws:states:::([^:]+):(.+)$/.exec(String(state.Resource ?? ''));
    found.set(name, {
      type: String(state.Type),
      ...(resource ? { resourceType: resource[1], resource: resource[2] } : {}),
    });
    const processor = (state.ItemProcessor ?? state.Iterator) as { States?: States } | undefined;
    if (processor?.States) stateKinds(processor.States, found);
    for (const branch of (state.Branches ?? []) as { States: States }[]) {
      stateKinds(branch.States, found);
    }
  }
  return found;
};

const text = (value: unknown) => JSON.stringify(value ?? null);

/** How an execution ended, as its last event tells it. */
export type ExecutionEnd =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED' | 'ABORTED'; error?: string; cause?: string };

/**
 * The history of one execution, built from the local executor's event log, the Map Run reports
 * and the execution's start, redrives and end, in the shapes and event types AWS uses.
 *
 * What it leaves out: events of a Distributed Map's children (each is its own execution in AWS),
 * `MapStateStarted` of an inline Map (the executor does not tell the item count), and the
 * `...EventDetails` fields AWS fills from its own bookkeeping (`taskScheduledEventDetails.parameters`
 * is the state's input after Parameters, which the executor does not report).
 */
export class ExecutionHistory {
  readonly events: HistoryEvent[] = [];
  readonly #kinds: Map<string, StateKind>;
  /** The last event of each scope (the execution, or one Map iteration): the next one's cause. */
  readonly #last = new Map<string, number>();
  readonly #region: string;
  /** Map Runs already started once: a RUNNING report for one of them is its redrive. */
  readonly #mapRuns = new Set<string>();
  /** States (`<name>#<scope>`) whose failure a Catch took: their exit is no TaskSucceeded. */
  readonly #caught = new Set<string>();

  /**
   * @param definition - the execution's definition, as written (Distributed Maps as Maps)
   * @param region - the region Task events name
   */
  constructor(definition: unknown, region: string) {
    this.#kinds = stateKinds((definition as { States: States }).States);
    this.#region = region;
  }

  /** ExecutionStarted, the first event. */
  started(input: unknown, roleArn: string): void {
    this.#add('', 'ExecutionStarted', {
      executionStartedEventDetails: {
        input: text(input),
        inputDetails: { truncated: false },
        roleArn,
      },
    });
  }

  /** ExecutionRedriven, as a redrive resumes the execution. */
  redriven(redriveCount: number): void {
    this.#add('', 'ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount } });
  }

  /** The execution's last event. */
  ended(end: ExecutionEnd): void {
    if (end.status === 'SUCCEEDED') {
      this.#add('', 'ExecutionSucceeded', {
        executionSucceededEventDetails: {
          output: text(end.output),
          outputDetails: { truncated: false },
        },
      });
      return;
    }
    const type = end.status === 'FAILED' ? 'ExecutionFailed' : 'ExecutionAborted';
    const field = `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
    // JSON leaves out an error or cause a StopExecution was not given, as AWS does.
    this.#add('', type, { [field]: { error: end.error, cause: end.cause } });
  }

  /** MapRunStarted, MapRunRedriven, MapRunSucceeded or MapRunFailed. */
  mapRun(report: MapRunReport): void {
    const { mapRunArn } = report;
    if (report.status === 'RUNNING') {
      if (this.#mapRuns.has(mapRunArn)) {
        this.#add('', 'MapRunRedriven', { mapRunRedrivenEventDetails: { mapRunArn } });
        return;
      }
      this.#mapRuns.add(mapRunArn);
      this.#add('', 'MapRunStarted', { mapRunStartedEventDetails: { mapRunArn } });
      return;
    }
    if (report.status === 'SUCCEEDED') this.#add('', 'MapRunSucceeded', {});
    else this.#add('', 'MapRunFailed', { mapRunFailedEventDetails: report.failure ?? {} });
  }

  /**
   * Adds the AWS events for one entry of the executor's event log. The executor's own
   * Execution* events are left out: the execution's start, redrive and end are told by the
   * runner, which knows which of them happened.
   */
  record(event: EventLog): void {
    const at = new Date(event.timestamp);
    switch (event.type) {
      case 'StateEntered':
      case 'StateExited':
      case 'StateFailed':
      case 'StateRetried':
        this.#state(event, at);
        return;
      case 'StateCaught':
        this.#caught.add(`${event.state.name}#${event.index ?? ''}`);
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const details: Record<string, unknown> = {
          name: event.parentState.name,
          index: event.index,
        };
        const field = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
        // An iteration's events chain inside it; its start follows the Map's last event, and
        // the Map's own next event follows that event too, not an iteration.
        const scope = `#${event.index}`;
        const after = event.type === 'MapIterationStarted' ? '' : scope;
        this.#add(scope, event.type, { [field]: details }, at, after);
        return;
      }
      default:
        return;
    }
  }

  #state(
    event: Extract<
      EventLog,
      { type: 'StateEntered' | 'StateExited' | 'StateFailed' | 'StateRetried' }
    >,
    at: Date
  ): void {
    const { name } = event.state;
    const kind = this.#kinds.get(name) ?? { type: event.state.type };
    const scope = event.index === undefined ? '' : `#${event.index}`;
    const task = kind.type === 'Task' && kind.resourceType !== undefined;
    const resource = task
      ? { resourceType: kind.resourceType, resource: kind.resource }
      : ({} as Record<string, unknown>);
    const scheduled = () => {
      this.#add(
        scope,
        'TaskScheduled',
        { taskScheduledEventDetails: { ...resource, region: this.#region, parameters: '{}' } },
        at
      );
      this.#add(scope, 'TaskStarted', { taskStartedEventDetails: resource }, at);
    };
    switch (event.type) {
      case 'StateEntered':
        this.#add(
          scope,
          `${kind.type}StateEntered`,
          {
            stateEnteredEventDetails: {
              name,
              input: text(event.state.input),
              inputDetails: { truncated: false },
            },
          },
          at
        );
        if (task) scheduled();
        return;
      case 'StateRetried':
        if (task) scheduled();
        return;
      case 'StateFailed':
        if (task) {
          this.#add(
            scope,
            'TaskFailed',
            {
              taskFailedEventDetails: {
                ...resource,
                error: event.Error,
                cause: String(event.Cause ?? ''),
              },
            },
            at
          );
        }
        return;
      case 'StateExited':
        // A caught failure exits the Task with the Catch's output, after its TaskFailed.
        if (task && !this.#caught.delete(`${name}#${event.index ?? ''}`)) {
          this.#add(
            scope,
            'TaskSucceeded',
            {
              taskSucceededEventDetails: {
                ...resource,
                output: text(event.state.output),
                outputDetails: { truncated: false },
              },
            },
            at
          );
        }
        // A Fail state has no exit in AWS's history.
        if (kind.type === 'Fail') return;
        this.#add(
          scope,
          `${kind.type}StateExited`,
          {
            stateExitedEventDetails: {
              name,
              output: text(event.state.output),
              outputDetails: { truncated: false },
            },
          },
          at
        );
        return;
    }
  }

  /**
   * Appends an event to a scope (the execution `''`, or a Map iteration `#<index>`), caused by
   * the last event of `after` (its own scope unless told), or of the execution when that scope
   * has none yet.
   */
  #add(
    scope: string,
    type: string,
    details: Record<string, unknown>,
    at = new Date(),
    after = scope
  ): void {
    const id = this.events.length + 1;
    this.events.push({
      timestamp: at,
      type,
      id,
      previousEventId: this.#last.get(after) ?? this.#last.get('') ?? 0,
      ...details,
    });
    this.#last.set(scope, id);
  }
}
