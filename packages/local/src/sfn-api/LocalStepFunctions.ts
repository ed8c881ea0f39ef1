import { randomUUID } from 'node:crypto';
import type { MapRunReport } from '../asl/distributedMap/shapes.js';
import type { LocalExecutionOutcome } from '../asl/LocalIntegrations.js';
import {
  type EmbeddedRuntime,
  type ExecuteOptions,
  localMachineArn,
  localMachineName,
  MACHINES,
  type MachineName,
} from '../runtime/EmbeddedRuntime.js';
import { executionArnOf, mapRunMachineArn, parseStatesArn } from './arns.js';
import { SfnApiError, SfnErrorCode } from './errors.js';
import { type ExecutionEnd, ExecutionHistory, type HistoryEvent } from './history.js';

/** An execution's status as DescribeExecution gives it. */
export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

/** AWS redrives an execution only within 14 days of its end (redrive-executions.html). */
export const REDRIVE_WINDOW_MS = 14 * 86_400_000;

/** The region and account of every local ARN (the embedded runtime's). */
const LOCAL_REGION = 'us-east-1';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/strata-local';

/** Characters AWS refuses in a name (API reference, StartExecution `name`), control ones aside. */
const BAD_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

/** Whether AWS accepts a name: 1 to 80 characters, none of them refused. */
const validName = (name: string) =>
  name.length >= 1 &&
  name.length <= 80 &&
  !BAD_NAME.test(name) &&
  ![...name].some((char) => {
    const code = char.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });

interface MapRunRecord {
  report: MapRunReport;
  executionArn: string;
  startDate: Date;
  stopDate?: Date;
  redriveCount: number;
  redriveDate?: Date;
}

interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  machine: MachineName;
  name: string;
  input: unknown;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  end?: ExecutionEnd;
  /** Whether the run stopped in a state a redrive resumes (not before the first one). */
  resumable: boolean;
  redriveCount: number;
  redriveDate?: Date;
  history: ExecutionHistory;
  mapRuns: Map<string, MapRunRecord>;
  /** Stops the run in flight (StopExecution). */
  stop?: AbortController;
  /** Settles when the run (or redrive) in flight ends. */
  running: Promise<void>;
}

/** A page of a list and the token of the next, as every List* action pages. */
const page = <T>(
  items: readonly T[],
  request: { maxResults?: number; nextToken?: string }
): { items: T[]; nextToken?: string } => {
  const size = request.maxResults ? request.maxResults : 100;
  if (!Number.isInteger(size) || size < 0 || size > 1000) {
    throw new SfnApiError(
      SfnErrorCode.ValidationException,
      `1 validation error detected: Value '${request.maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`
    );
  }
  let start = 0;
  if (request.nextToken !== undefined) {
    start = Number(Buffer.from(request.nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start <= 0 || start >= items.length) {
      throw new SfnApiError(SfnErrorCode.InvalidToken, `Invalid Token: '${request.nextToken}'`);
    }
  }
  const end = start + size;
  return {
    items: items.slice(start, end),
    ...(end < items.length
      ? { nextToken: Buffer.from(String(end), 'utf8').toString('base64url') }
      : {}),
  };
};

/** The fields every execution listing and description share. */
const executionListItem = (record: ExecutionRecord) => ({
  executionArn: record.executionArn,
  stateMachineArn: record.stateMachineArn,
  name: record.name,
  status: record.status,
  startDate: record.startDate,
  ...(record.stopDate ? { stopDate: record.stopDate } : {}),
  redriveCount: record.redriveCount,
  ...(record.redriveDate ? { redriveDate: record.redriveDate } : {}),
});

/** Why an execution cannot be redriven now, or nothing when it can (redrive-executions.html). */
const notRedrivable = (record: ExecutionRecord, now: number): string | undefined => {
  if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(record.status)) {
    return `Execution is ${record.status} and cannot be redriven`;
  }
  if (record.stopDate && now - record.stopDate.getTime() > REDRIVE_WINDOW_MS) {
    return 'Execution stopped more than 14 days ago and cannot be redriven';
  }
  if (!record.resumable) {
    return 'Execution failed before any state started and cannot be redriven';
  }
  return undefined;
};

export interface LocalStepFunctionsOptions {
  /**
   * Wraps functions' real handlers in every execution this API starts or redrives: how a test
   * injects a fault (see {@link ExecuteOptions.functionOverrides}).
   */
  functionOverrides?: ExecuteOptions['functionOverrides'];
  /** The clock redrive's 14 days are measured on; Date.now by default. */
  now?: () => number;
}

/**
 * The Step Functions API over the embedded runtime: every action takes the request and returns
 * the response of the AWS JSON protocol (dates as Date), and refuses what AWS refuses with an
 * {@link SfnApiError} named by AWS's error code. Executions run in the background, as in AWS:
 * StartExecution answers at once, DescribeExecution tells when the execution ends.
 *
 * @example
 * const api = new LocalStepFunctions(runtime);
 * const { executionArn } = await api.StartExecution({ stateMachineArn, input: '{}' });
 */
export class LocalStepFunctions {
  readonly #runtime: EmbeddedRuntime;
  readonly #options: LocalStepFunctionsOptions;
  /** Every execution, by ARN, in the order they started. */
  readonly #executions = new Map<string, ExecutionRecord>();
  readonly #mapRuns = new Map<string, MapRunRecord>();
  readonly #created = new Date();

  constructor(runtime: EmbeddedRuntime, options: LocalStepFunctionsOptions = {}) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /** Settles once every execution in flight has ended: what a server waits for before it stops. */
  async idle(): Promise<void> {
    await Promise.all([...this.#executions.values()].map((record) => record.running));
  }

  async ListStateMachines(request: { maxResults?: number; nextToken?: string }) {
    const { items, nextToken } = page(MACHINES, request);
    return {
      stateMachines: items.map((machine) => ({
        stateMachineArn: localMachineArn(machine),
        name: localMachineName(machine),
        type: 'STANDARD',
        creationDate: this.#created,
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async DescribeStateMachine(request: { stateMachineArn?: string }) {
    const machine = this.#machine(request.stateMachineArn);
    return {
      stateMachineArn: localMachineArn(machine),
      name: localMachineName(machine),
      status: 'ACTIVE',
      definition: JSON.stringify(await this.#runtime.definition(machine), null, 2),
      roleArn: ROLE_ARN,
      type: 'STANDARD',
      creationDate: this.#created,
    };
  }

  async StartExecution(request: { stateMachineArn?: string; name?: string; input?: string }) {
    const machine = this.#machine(request.stateMachineArn);
    const stateMachineArn = localMachineArn(machine);
    const name = request.name ?? randomUUID();
    if (!validName(name)) {
      throw new SfnApiError(SfnErrorCode.InvalidName, `Invalid Name: '${name}'`);
    }
    const inputText = request.input ?? '{}';
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch (error) {
      throw new SfnApiError(
        SfnErrorCode.InvalidExecutionInput,
        `Invalid State Machine Execution Input: '${(error as Error).message}'`
      );
    }
    const executionArn = executionArnOf(stateMachineArn, name);
    const existing = this.#executions.get(executionArn);
    if (existing) {
      // A repeated start of a running execution with the same input is the same start.
      if (
        existing.status === 'RUNNING' &&
        JSON.stringify(existing.input) === JSON.stringify(input)
      ) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new SfnApiError(
        SfnErrorCode.ExecutionAlreadyExists,
        `Execution Already Exists: '${executionArn}'`
      );
    }
    const definition = await this.#runtime.definition(machine);
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      machine,
      name,
      input,
      status: 'RUNNING',
      startDate: new Date(),
      resumable: false,
      redriveCount: 0,
      history: new ExecutionHistory(definition, LOCAL_REGION),
      mapRuns: new Map(),
      running: Promise.resolve(),
    };
    record.history.started(input, ROLE_ARN);
    this.#executions.set(executionArn, record);
    this.#run(record, (options) =>
      this.#runtime.execute(machine, {
        ...options,
        input,
        executionName: name,
        startTime: record.startDate.toISOString(),
      })
    );
    return { executionArn, startDate: record.startDate };
  }

  async DescribeExecution(request: { executionArn?: string }) {
    const record = this.#execution(request.executionArn);
    const now = this.#now();
    const reason = notRedrivable(record, now);
    const { end } = record;
    return {
      ...executionListItem(record),
      input: JSON.stringify(record.input),
      inputDetails: { included: true },
      ...(end?.status === 'SUCCEEDED'
        ? { output: JSON.stringify(end.output), outputDetails: { included: true } }
        : {}),
      ...(end?.status === 'SUCCEEDED' ? {} : { error: end?.error, cause: end?.cause }),
      redriveStatus: reason ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
      ...(reason ? { redriveStatusReason: reason } : {}),
    };
  }

  async ListExecutions(request: {
    stateMachineArn?: string;
    mapRunArn?: string;
    statusFilter?: ExecutionStatus;
    redriveFilter?: 'REDRIVEN' | 'NOT_REDRIVEN';
    maxResults?: number;
    nextToken?: string;
  }) {
    if (request.mapRunArn !== undefined) {
      // Children are not executions of their own locally: their records are in the Map Run's
      // ResultWriter files.
      parseStatesArn(request.mapRunArn, 'mapRun');
      throw new SfnApiError(
        SfnErrorCode.ValidationException,
        "ListExecutions by mapRunArn is not emulated: a Map Run's child executions are in its ResultWriter files"
      );
    }
    const stateMachineArn = localMachineArn(this.#machine(request.stateMachineArn));
    // Newest first, as the service lists them.
    const matching = [...this.#executions.values()]
      .reverse()
      .filter(
        (record) =>
          record.stateMachineArn === stateMachineArn &&
          (request.statusFilter === undefined || record.status === request.statusFilter) &&
          (request.redriveFilter === undefined ||
            (request.redriveFilter === 'REDRIVEN') === record.redriveCount > 0)
      );
    const { items, nextToken } = page(matching, request);
    return { executions: items.map(executionListItem), ...(nextToken ? { nextToken } : {}) };
  }

  async GetExecutionHistory(request: {
    executionArn?: string;
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
    includeExecutionData?: boolean;
  }) {
    const record = this.#execution(request.executionArn);
    const events = request.reverseOrder
      ? [...record.history.events].reverse()
      : record.history.events;
    const { items, nextToken } = page(events, request);
    return {
      events: request.includeExecutionData === false ? items.map(withoutData) : items,
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async StopExecution(request: { executionArn?: string; error?: string; cause?: string }) {
    const record = this.#execution(request.executionArn);
    if (record.status === 'RUNNING') {
      record.stop?.abort({ error: request.error, cause: request.cause });
      await record.running;
    }
    return { stopDate: record.stopDate ?? new Date() };
  }

  async RedriveExecution(request: { executionArn?: string; clientToken?: string }) {
    const record = this.#execution(request.executionArn);
    const reason = notRedrivable(record, this.#now());
    if (reason) throw new SfnApiError(SfnErrorCode.ExecutionNotRedrivable, reason);
    record.redriveCount += 1;
    record.redriveDate = new Date();
    record.status = 'RUNNING';
    record.stopDate = undefined;
    record.end = undefined;
    record.history.redriven(record.redriveCount);
    this.#run(record, (options) => this.#runtime.redriveExecution(record.name, options));
    return { redriveDate: record.redriveDate };
  }

  async ListMapRuns(request: { executionArn?: string; maxResults?: number; nextToken?: string }) {
    const record = this.#execution(request.executionArn);
    const { items, nextToken } = page([...record.mapRuns.values()], request);
    return {
      mapRuns: items.map((run) => ({
        executionArn: run.executionArn,
        mapRunArn: run.report.mapRunArn,
        stateMachineArn: mapRunMachineArn(run.report.mapRunArn),
        startDate: run.startDate,
        ...(run.stopDate ? { stopDate: run.stopDate } : {}),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async DescribeMapRun(request: { mapRunArn?: string }) {
    parseStatesArn(request.mapRunArn, 'mapRun');
    const run = this.#mapRuns.get(String(request.mapRunArn));
    if (!run) {
      throw new SfnApiError(
        SfnErrorCode.ResourceNotFound,
        `Resource not found: '${request.mapRunArn}'`
      );
    }
    const { report } = run;
    return {
      mapRunArn: report.mapRunArn,
      executionArn: run.executionArn,
      status: report.status,
      startDate: run.startDate,
      ...(run.stopDate ? { stopDate: run.stopDate } : {}),
      maxConcurrency: report.maxConcurrency,
      toleratedFailurePercentage: report.toleratedFailurePercentage,
      toleratedFailureCount: report.toleratedFailureCount,
      itemCounts: report.itemCounts,
      executionCounts: report.executionCounts,
      redriveCount: run.redriveCount,
      ...(run.redriveDate ? { redriveDate: run.redriveDate } : {}),
    };
  }

  /**
   * Runs an execution (or its redrive) in the background, recording its events, Map Runs and
   * end on its record.
   */
  #run(
    record: ExecutionRecord,
    start: (
      options: Pick<ExecuteOptions, 'onEvent' | 'onMapRunReport' | 'signal' | 'functionOverrides'>
    ) => Promise<LocalExecutionOutcome>
  ): void {
    const stop = new AbortController();
    record.stop = stop;
    record.running = start({
      onEvent: (event) => record.history.record(event),
      onMapRunReport: (report) => this.#mapRun(record, report),
      signal: stop.signal,
      functionOverrides: this.#options.functionOverrides,
    }).then(
      (outcome) => {
        record.resumable = outcome.status === 'FAILED' && outcome.redrive !== undefined;
        this.#ended(record, endOf(outcome, stop.signal));
      },
      (error: Error) =>
        this.#ended(record, { status: 'FAILED', error: error.name, cause: error.message })
    );
  }

  #ended(record: ExecutionRecord, end: ExecutionEnd): void {
    record.end = end;
    record.status = end.status;
    record.stopDate = new Date();
    record.stop = undefined;
    record.history.ended(end);
  }

  #mapRun(record: ExecutionRecord, report: MapRunReport): void {
    record.history.mapRun(report);
    const known = this.#mapRuns.get(report.mapRunArn);
    if (report.status !== 'RUNNING') {
      if (known) Object.assign(known, { report, stopDate: new Date() });
      return;
    }
    if (known) {
      // The same Map Run again: its parent's redrive redrives it.
      Object.assign(known, {
        report,
        stopDate: undefined,
        redriveCount: known.redriveCount + 1,
        redriveDate: new Date(),
      });
      return;
    }
    const run = {
      report,
      executionArn: record.executionArn,
      startDate: new Date(),
      redriveCount: 0,
    };
    this.#mapRuns.set(report.mapRunArn, run);
    record.mapRuns.set(report.mapRunArn, run);
  }

  #machine(stateMachineArn: unknown): MachineName {
    parseStatesArn(stateMachineArn, 'stateMachine');
    const machine = MACHINES.find((name) => localMachineArn(name) === stateMachineArn);
    if (!machine) {
      throw new SfnApiError(
        SfnErrorCode.StateMachineDoesNotExist,
        `State Machine Does Not Exist: '${stateMachineArn}'`
      );
    }
    return machine;
  }

  #execution(executionArn: unknown): ExecutionRecord {
    parseStatesArn(executionArn, 'execution');
    const record = this.#executions.get(String(executionArn));
    if (!record) {
      throw new SfnApiError(
        SfnErrorCode.ExecutionDoesNotExist,
        `Execution Does Not Exist: '${executionArn}'`
      );
    }
    return record;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

/** How a run ended, as the API tells it: a stopped run is ABORTED with what it was stopped with. */
const endOf = (outcome: LocalExecutionOutcome, signal: AbortSignal): ExecutionEnd => {
  if (signal.aborted && outcome.status === 'FAILED') {
    const { error, cause } = signal.reason as { error?: string; cause?: string };
    return {
      status: 'ABORTED',
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    };
  }
  return outcome.status === 'SUCCEEDED'
    ? { status: 'SUCCEEDED', output: outcome.output }
    : { status: 'FAILED', error: outcome.error, cause: outcome.cause };
};

/** An event without the execution data GetExecutionHistory leaves out on request. */
const withoutData = (event: HistoryEvent): HistoryEvent =>
  Object.fromEntries(
    Object.entries(event).map(([key, value]) => {
      if (!key.endsWith('EventDetails') || value === null || typeof value !== 'object') {
        return [key, value];
      }
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      return [key, rest];
    })
  ) as HistoryEvent;
