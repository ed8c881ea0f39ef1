import { createHash } from 'node:crypto';
import type { ObjectStore } from '@strata/core/ports';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type LocalClock, realClock } from '../clock.js';
import { type LocalIntegrations, named, serialize } from '../LocalIntegrations.js';
import {
  guardHandlers,
  monitorRun,
  PayloadWatch,
  statesNamingDataLimit,
  type TaskHandlers,
} from '../payloadLimit.js';
import { type Batch, batchItems, DEFAULT_MAX_BATCH_BYTES } from './batchItems.js';
import { type ContextObject, type Json, payloadTemplate, referencePath } from './evaluate.js';
import { itemReaderFailed, parseItems } from './parseItems.js';
import { mapRunFolder, readResultSet, resultWriterFailed, writeResultSet } from './resultWriter.js';
import type {
  DistributedMapState,
  ExecutionRecord,
  ExecutionStatus,
  MapRunCounts,
  MapRunReport,
  ResultWriterOutput,
} from './shapes.js';

/** AWS runs up to 10,000 children at once; one process gains nothing from more than this. */
export const DEFAULT_LOCAL_CONCURRENCY = 40;

/** An EXPRESS execution, a Distributed Map's child included, ends after 5 minutes. */
export const EXPRESS_LIMIT_MS = 5 * 60 * 1000;

/** The Cause AWS reports with States.ExceedToleratedFailureThreshold. */
const THRESHOLD_CAUSE = 'The specified tolerated failure threshold was exceeded';

export interface DistributedMapOptions {
  /** The Map state as written in the ASL (its ItemProcessor in DISTRIBUTED mode). */
  state: DistributedMapState;
  stateName: string;
  /** The state's input after InputPath: what ItemsPath, ItemReader and ItemSelector's `$` see. */
  input: unknown;
  /** The parent's context object: `Execution` and `StateMachine` (their `Id` are ARNs). */
  context: ContextObject;
  /** The Map Run's id, the last segment of its ARN; pass a stable one for stable names and keys. */
  mapRunId: string;
  integrations: LocalIntegrations;
  /** Handlers for the Task states of the ItemProcessor (the parent's map serves them all). */
  handlers: TaskHandlers;
  /** The parent execution's payload watch: each child's payloads count toward its largest. */
  watch?: PayloadWatch;
  /** The clock an EXPRESS child's 5 minutes are measured on; real time if unset. */
  clock?: LocalClock;
  /** Told where the Map Run's results are as soon as they are written, failed or not. */
  onMapRun?: (details: ResultWriterOutput['ResultWriterDetails']) => void;
  /** Told how the Map Run stands as it starts and as it ends, for ListMapRuns and DescribeMapRun. */
  onMapRunReport?: (report: MapRunReport) => void;
  /**
   * The parent's stop (StopExecution): no child starts after it, and the running ones are
   * aborted, as stopping a parent aborts its Map Run's children.
   */
  signal?: AbortSignal;
  /** Upper bound on children in flight, whatever MaxConcurrency says. */
  maxLocalConcurrency?: number;
}

/**
 * A UUID-shaped name derived from its parts (SHA-1, version 5 layout). AWS's Map Run ids and
 * child execution names are name-based UUIDs too (e.g. `ad9b5f27-090b-3ac6-...`); deriving them
 * makes local result keys and child names reproducible.
 *
 * @param parts - what the name identifies
 */
export const nameUuid = (...parts: readonly (string | number)[]): string => {
  const hex = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};

/**
 * The ARNs of one Map Run and of its children. Formats from state-map-distributed.html (Label:
 * `mapRun:demoWorkflow/demoLabel:<uuid>`; child metrics: `stateMachine:<name>/<label or UUID>`)
 * and the record example of input-output-resultwriter.html
 * (`execution:orderProcessing/getOrders:<uuid>`). Without a Label AWS generates one.
 */
const mapRunIdentity = (state: DistributedMapState, stateName: string, context: ContextObject) => {
  const stateMachineArn = String(
    record(context.StateMachine).Id ?? 'arn:aws:states:us-east-1:000000000000:stateMachine:local'
  );
  const [, , , region, account, , machineName] = stateMachineArn.split(':');
  const label = state.Label ?? nameUuid(stateMachineArn, stateName);
  const base = `arn:aws:states:${region}:${account}`;
  return {
    mapRunArn: (mapRunId: string) => `${base}:mapRun:${machineName}/${label}:${mapRunId}`,
    childMachineArn: `${base}:stateMachine:${machineName}/${label}`,
    childArn: (name: string) => `${base}:execution:${machineName}/${label}:${name}`,
  };
};

/** A `<Field>` value, or the number its `<Field>Path` selects from the state input. */
const resolveNumber = async (
  holder: Record<string, unknown>,
  field: string,
  input: unknown,
  context: ContextObject
): Promise<number | undefined> => {
  const path = holder[`${field}Path`];
  const value =
    holder[field] ??
    (typeof path === 'string' ? await referencePath(path)(input, context) : undefined);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw named(
      'States.Runtime',
      `${field} must be a non-negative number, got ${JSON.stringify(value)}`
    );
  }
  return value;
};

const storeFor = (
  integrations: LocalIntegrations,
  bucket: unknown,
  fail: (message: string) => Error
): ObjectStore => {
  if (typeof bucket !== 'string' || bucket === '') throw fail('the S3 Bucket is missing');
  if (!integrations.objectStore)
    throw fail('no local object store was given (integrations.objectStore)');
  return integrations.objectStore(bucket);
};

/**
 * The Map's items: from the ItemReader's S3 object (`arn:aws:states:::s3:getObject` with InputType
 * JSON, JSONL or CSV, at most MaxItems) or, without an ItemReader, the array ItemsPath selects.
 */
const readItems = async (options: DistributedMapOptions): Promise<unknown[]> => {
  const { state, input, context } = options;
  const reader = state.ItemReader;
  if (!reader) {
    const items = state.ItemsPath ? await referencePath(state.ItemsPath)(input, context) : input;
    if (!Array.isArray(items)) {
      // The library's inline Map says the same for a non-array.
      throw named(
        'States.Runtime',
        'Input of Map state must be an array or ItemsPath property must point to an array'
      );
    }
    return items;
  }
  if (reader.Resource !== 'arn:aws:states:::s3:getObject') {
    throw itemReaderFailed(`ItemReader Resource ${reader.Resource} is not emulated locally`);
  }
  const parameters = record(
    reader.Parameters ? await payloadTemplate(reader.Parameters)(input, context) : {}
  );
  const store = storeFor(options.integrations, parameters.Bucket, itemReaderFailed);
  const key = String(parameters.Key);
  let body: Uint8Array | undefined;
  try {
    body = await store.get(key);
  } catch (error) {
    throw itemReaderFailed(`cannot read s3://${parameters.Bucket}/${key}: ${error}`);
  }
  if (!body) throw itemReaderFailed(`s3://${parameters.Bucket}/${key} does not exist`);
  const config = reader.ReaderConfig ?? {};
  const items = parseItems(Buffer.from(body).toString('utf8'), config);
  const maxItems = await resolveNumber(record(config), 'MaxItems', input, context);
  return maxItems ? items.slice(0, maxItems) : items;
};

/** One child workflow execution to start: its identity, input, and how many items it carries. */
interface Child {
  name: string;
  executionArn: string;
  stateMachineArn: string;
  input: unknown;
  items: number;
  redriveCount: number;
}

interface ChildRun {
  machine: StateMachine;
  handlers: TaskHandlers;
  /** The processor's Task states whose Retry or Catch names States.DataLimitExceeded. */
  namingDataLimit: ReadonlySet<string>;
  watch: PayloadWatch;
  clock: LocalClock;
  executionType: 'EXPRESS' | 'STANDARD';
  roleArn: unknown;
  signal?: AbortSignal;
}

/**
 * Runs one child to its end. An EXPRESS child still running after 5 minutes on the clock, from
 * its own start, is stopped and counts as timed out, as AWS ends it; its payloads are held to the
 * 256 KiB limit as the parent's are.
 */
const runToEnd = async (
  child: Child,
  run: ChildRun,
  context: Record<string, unknown>
): Promise<
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED' | 'TIMED_OUT' | 'ABORTED'; error: string; cause: string }
> => {
  const watch = new PayloadWatch(run.watch);
  const execution = run.machine.run(child.input as Json, {
    overrides: {
      taskResourceLocalHandlers: guardHandlers(run.handlers, watch, run.namingDataLimit),
    },
    context,
    noThrowOnAbort: true,
  });
  const monitored = monitorRun(execution, watch);
  const ended = new AbortController();
  const abort = () => execution.abort();
  run.signal?.addEventListener('abort', abort, { once: true });
  let timedOut = false;
  if (run.executionType === 'EXPRESS') {
    void run.clock.after(EXPRESS_LIMIT_MS, ended.signal).then(() => {
      timedOut = true;
      execution.abort();
    });
  }
  try {
    const output = await execution.result;
    const failure = await monitored;
    if (timedOut) return { status: 'TIMED_OUT', error: 'States.Timeout', cause: '' };
    if (run.signal?.aborted) return { status: 'ABORTED', error: 'States.Aborted', cause: '' };
    return failure ? { status: 'FAILED', ...failure } : { status: 'SUCCEEDED', output };
  } catch (error) {
    const failure = (await monitored) ?? {
      error: (error as Error).name,
      cause: (error as Error).message,
    };
    return { status: 'FAILED', ...failure };
  } finally {
    ended.abort();
    run.signal?.removeEventListener('abort', abort);
  }
};

/**
 * Runs one child as its own execution with its own context object, and returns its record in
 * the ResultWriter shape (input-output-resultwriter.html, "Transformation NONE").
 */
const runChild = async (child: Child, run: ChildRun): Promise<ExecutionRecord> => {
  const StartDate = new Date().toISOString();
  const base = {
    ExecutionArn: child.executionArn,
    Input: JSON.stringify(child.input),
    InputDetails: { Included: true },
    Name: child.name,
  };
  const outcome = await runToEnd(child, run, {
    Execution: {
      Id: child.executionArn,
      Name: child.name,
      StartTime: StartDate,
      RoleArn: run.roleArn,
    },
    StateMachine: { Id: child.stateMachineArn, Name: child.stateMachineArn.split(':').pop() },
  });
  if (outcome.status === 'SUCCEEDED') {
    return {
      ...base,
      Output: JSON.stringify(outcome.output),
      OutputDetails: { Included: true },
      RedriveCount: child.redriveCount,
      RedriveStatus: 'NOT_REDRIVABLE',
      RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
      StartDate,
      StateMachineArn: child.stateMachineArn,
      Status: 'SUCCEEDED',
      StopDate: new Date().toISOString(),
    };
  }
  return {
    ...base,
    Error: outcome.error,
    Cause: outcome.cause,
    OutputDetails: { Included: true },
    RedriveCount: child.redriveCount,
    // An EXPRESS child is only rerun by redriving its Map Run (API reference,
    // ExecutionRedriveStatus); a STANDARD one is redriven with RedriveExecution.
    RedriveStatus: run.executionType === 'EXPRESS' ? 'REDRIVABLE_BY_MAP_RUN' : 'REDRIVABLE',
    StartDate,
    StateMachineArn: child.stateMachineArn,
    Status: outcome.status,
    StopDate: new Date().toISOString(),
  };
};

/**
 * Starts the children with at most `concurrency` in flight, in item order. Once `exceeded` says
 * the failures are over the threshold no new child starts (the ones running finish, as "Step
 * Functions may continue to run child workflows [...] before the Map Run fails"); the ones never
 * started are recorded as PENDING, the status of the `PENDING_n.json` file. AWS documents no
 * field list for a pending record; it gets the fields known before a start.
 */
const runChildren = async (
  children: readonly Child[],
  run: ChildRun,
  concurrency: number,
  exceeded: (failedItems: number) => boolean
) => {
  const records: (ExecutionRecord | undefined)[] = children.map(() => undefined);
  let next = 0;
  let failedItems = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && !run.signal?.aborted && next < children.length) {
      const index = next;
      next += 1;
      const child = children[index] as Child;
      const result = await runChild(child, run);
      records[index] = result;
      if (result.Status !== 'SUCCEEDED') {
        failedItems += child.items;
        if (exceeded(failedItems)) stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, children.length) }, worker));
  return {
    failedItems,
    records: records.map(
      (result, index): ExecutionRecord =>
        result ?? {
          ExecutionArn: (children[index] as Child).executionArn,
          Input: JSON.stringify((children[index] as Child).input),
          InputDetails: { Included: true },
          Name: (children[index] as Child).name,
          RedriveCount: (children[index] as Child).redriveCount,
          StateMachineArn: (children[index] as Child).stateMachineArn,
          Status: 'PENDING',
        }
    ),
  };
};

/**
 * The tolerated-failure rule of state-map-distributed.html ("Setting failure thresholds"): the
 * Map Run fails when the failed (or timed-out) items exceed ToleratedFailureCount, or their share
 * of all items exceeds ToleratedFailurePercentage; with neither set, one failure fails it.
 */
const thresholdRule = async (
  options: Pick<DistributedMapOptions, 'state' | 'input' | 'context'>,
  totalItems: number
) => {
  const state = record(options.state);
  const count = await resolveNumber(state, 'ToleratedFailureCount', options.input, options.context);
  const percentage = await resolveNumber(
    state,
    'ToleratedFailurePercentage',
    options.input,
    options.context
  );
  return (failedItems: number): boolean => {
    if (count === undefined && percentage === undefined) return failedItems > 0;
    return (
      (count !== undefined && failedItems > count) ||
      (percentage !== undefined && totalItems > 0 && (failedItems / totalItems) * 100 > percentage)
    );
  };
};

/** The ItemProcessor as a machine of its own; ProcessorConfig is Map syntax, not a machine's. */
const processorMachine = (state: DistributedMapState): StateMachine => {
  const { ProcessorConfig: _mode, ...definition } = state.ItemProcessor;
  return new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: { checkArn: true },
  });
};

const childRun = async (
  options: Omit<DistributedMapOptions, 'mapRunId'>
): Promise<ChildRun & { concurrency: number }> => {
  const maxConcurrency = await resolveNumber(
    record(options.state),
    'MaxConcurrency',
    options.input,
    options.context
  );
  return {
    machine: processorMachine(options.state),
    handlers: options.handlers,
    namingDataLimit: statesNamingDataLimit(
      options.state.ItemProcessor.States as Record<string, Record<string, unknown>>
    ),
    watch: options.watch ?? new PayloadWatch(),
    clock: options.clock ?? realClock,
    executionType: options.state.ItemProcessor.ProcessorConfig?.ExecutionType ?? 'STANDARD',
    roleArn: record(record(options.context).Execution).RoleArn,
    signal: options.signal,
    // MaxConcurrency 0 or absent means no limit in AWS (10,000).
    concurrency: Math.min(
      maxConcurrency ? maxConcurrency : Number.POSITIVE_INFINITY,
      options.maxLocalConcurrency ?? DEFAULT_LOCAL_CONCURRENCY
    ),
  };
};

/** One child's share of a Map Run's counts: the items it carries and where it stands. */
interface Tally {
  items: number;
  status: ExecutionStatus;
}

const countsOf = (
  tallies: readonly Tally[],
  weigh: (tally: Tally) => number,
  written: boolean
): MapRunCounts => {
  const sum = (status?: ExecutionStatus) =>
    tallies
      .filter((tally) => status === undefined || tally.status === status)
      .reduce((total, tally) => total + weigh(tally), 0);
  return {
    pending: sum('PENDING'),
    running: 0,
    succeeded: sum('SUCCEEDED'),
    failed: sum('FAILED'),
    timedOut: sum('TIMED_OUT'),
    aborted: sum('ABORTED'),
    total: sum(),
    // ResultWriter writes every child's record once the run ends, failed or not.
    resultsWritten: written ? sum() : 0,
    failuresNotRedrivable: 0,
    pendingRedrive: 0,
  };
};

/**
 * A function that tells `onMapRunReport` how the Map Run stands (a no-op without one), with the
 * state's limits resolved once.
 */
const mapRunTeller = async (
  options: Omit<DistributedMapOptions, 'mapRunId' | 'input'> & { input: unknown },
  mapRunArn: string
) => {
  const tell = options.onMapRunReport;
  if (!tell) return () => undefined;
  const state = record(options.state);
  const limit = async (field: string) =>
    (await resolveNumber(state, field, options.input, options.context)) ?? 0;
  const limits = {
    maxConcurrency: await limit('MaxConcurrency'),
    toleratedFailurePercentage: await limit('ToleratedFailurePercentage'),
    toleratedFailureCount: await limit('ToleratedFailureCount'),
  };
  return (status: MapRunReport['status'], tallies: readonly Tally[], failure?: Error) => {
    const written = status !== 'RUNNING' && options.state.ResultWriter !== undefined;
    tell({
      mapRunArn,
      stateName: options.stateName,
      status,
      ...(failure ? { failure: { error: failure.name, cause: failure.message } } : {}),
      ...limits,
      itemCounts: countsOf(tallies, (tally) => tally.items, written),
      executionCounts: countsOf(tallies, () => 1, written),
    });
  };
};

/** Runs a Map Run's children, telling its start and its end, whichever way it ends. */
const reported = async <T>(
  tell: (status: MapRunReport['status'], tallies: readonly Tally[], failure?: Error) => void,
  before: readonly Tally[],
  work: (ran: (tallies: readonly Tally[]) => void) => Promise<T>
): Promise<T> => {
  let tallies = before;
  tell('RUNNING', tallies);
  try {
    const result = await work((after) => {
      tallies = after;
    });
    tell('SUCCEEDED', tallies);
    return result;
  } catch (error) {
    tell('FAILED', tallies, error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
};

const exceededError = () => named('States.ExceedToleratedFailureThreshold', THRESHOLD_CAUSE);

/**
 * Emulates one Map Run of a Distributed Map state and returns the Map's result (before its
 * ResultSelector, ResultPath and OutputPath, which the executor applies):
 *
 * 1. items from the ItemReader (S3 through `integrations.objectStore`) or from ItemsPath;
 * 2. ItemSelector per item, with `$$.Map.Item.Index` and `$$.Map.Item.Value`;
 * 3. ItemBatcher: `{ BatchInput, Items }` children bounded by count and serialized bytes;
 * 4. one child execution per item or batch (the ItemProcessor, its Tasks served by `handlers`),
 *    at most MaxConcurrency at once;
 * 5. ToleratedFailureCount/Percentage: over the threshold, States.ExceedToleratedFailureThreshold;
 * 6. with ResultWriter, the result files and manifest in S3 and `{ MapRunArn, ResultWriterDetails }`;
 *    without, the array of child outputs in item order, a failed child appearing as its execution
 *    record ("If a child workflow execution fails, Step Functions returns its execution result
 *    unchanged", input-output-resultwriter.html), within the 256 KiB state limit.
 *
 * @param options - the state, its input and context, the Map Run id and the local services
 */
export const runDistributedMap = async (options: DistributedMapOptions): Promise<unknown> => {
  const { state, input, context } = options;
  const ids = mapRunIdentity(state, options.stateName, context);
  const items = await readItems(options);

  const selector = state.ItemSelector ?? state.Parameters;
  const select = selector ? payloadTemplate(selector) : undefined;
  const selected: unknown[] = [];
  for (const [Index, Value] of items.entries()) {
    selected.push(
      select ? await select(input, { ...context, Map: { Item: { Index, Value } } }) : Value
    );
  }

  let inputs: unknown[] = selected;
  if (state.ItemBatcher) {
    const batcher = record(state.ItemBatcher);
    inputs = batchItems(selected, {
      maxItems: await resolveNumber(batcher, 'MaxItemsPerBatch', input, context),
      maxBytes:
        (await resolveNumber(batcher, 'MaxInputBytesPerBatch', input, context)) ??
        DEFAULT_MAX_BATCH_BYTES,
      batchInput: state.ItemBatcher.BatchInput,
    });
  }
  const children = inputs.map((childInput, index): Child => {
    const name = nameUuid(options.mapRunId, index);
    return {
      name,
      executionArn: ids.childArn(name),
      stateMachineArn: ids.childMachineArn,
      input: serialize(childInput, `child ${index} input`),
      items: state.ItemBatcher ? (childInput as Batch).Items.length : 1,
      redriveCount: 0,
    };
  });

  const run = await childRun(options);
  const exceeded = await thresholdRule(options, items.length);
  const mapRunArn = ids.mapRunArn(options.mapRunId);
  const tell = await mapRunTeller(options, mapRunArn);
  const pending = children.map((child): Tally => ({ items: child.items, status: 'PENDING' }));
  return reported(tell, pending, async (ran) => {
    const { records, failedItems } = await runChildren(children, run, run.concurrency, exceeded);
    ran(records.map((result, index) => ({ ...(pending[index] as Tally), status: result.Status })));

    if (state.ResultWriter) {
      const target = await resultWriterTarget(options);
      const output = await writeResultSet({
        ...target,
        folder: mapRunFolder(target.prefix, options.mapRunId),
        mapRunArn,
        records,
        fileIndex: 0,
      });
      options.onMapRun?.(output.ResultWriterDetails);
      // The results are written even when the Map Run fails: FAILED_n.json is how one recovers.
      if (exceeded(failedItems)) throw exceededError();
      return output;
    }
    if (exceeded(failedItems)) throw exceededError();
    return serialize(
      records.map((result) =>
        result.Status === 'SUCCEEDED' ? (JSON.parse(result.Output ?? 'null') as unknown) : result
      ),
      'the Map result'
    );
  });
};

/** ResultWriter `arn:aws:states:::s3:putObject` with Parameters Bucket and Prefix (`.$` allowed). */
const resultWriterTarget = async (
  options: Pick<DistributedMapOptions, 'state' | 'input' | 'context' | 'integrations'>
) => {
  const writer = options.state.ResultWriter;
  if (writer?.Resource !== 'arn:aws:states:::s3:putObject' || writer.WriterConfig) {
    throw resultWriterFailed(
      'only ResultWriter { Resource: arn:aws:states:::s3:putObject, Parameters } is emulated locally'
    );
  }
  const parameters = record(
    writer.Parameters
      ? await payloadTemplate(writer.Parameters)(options.input, options.context)
      : {}
  );
  const store = storeFor(options.integrations, parameters.Bucket, resultWriterFailed);
  return { store, bucket: String(parameters.Bucket), prefix: String(parameters.Prefix ?? '') };
};

export interface RedriveMapRunOptions extends Omit<DistributedMapOptions, 'mapRunId' | 'input'> {
  /** The `ResultWriterDetails` of the Map Run to redrive: its manifest's bucket and key. */
  resultWriterDetails: { Bucket: string; Key: string };
  /** The Map state's input, only needed when the state uses `...Path` fields. */
  input?: unknown;
}

const fileIndexOf = (key: string): number => Number(/_(\d+)\.json$/.exec(key)?.[1] ?? -1);

/**
 * Redrives a Map Run from its ResultWriter manifest: reruns only the children in its FAILED and
 * PENDING files and writes a new result set next to the old one.
 *
 * What AWS does (redrive-map-run.html): a Map Run is redriven by redriving its parent execution;
 * the Map Run keeps its ARN, so results stay under the same `<Prefix>/<map run id>/`. Children
 * that failed, timed out or were aborted are rerun with the input they had: EXPRESS children
 * start again from the ItemProcessor's first state with the same ARN (their redrives cannot be
 * told apart), STANDARD children are redriven from the state that failed with the same ARN and
 * an incremented redrive count. The new manifest lists the successful files of every attempt but
 * only this attempt's FAILED and PENDING files (input-output-resultwriter.html).
 *
 * What this emulates: the same ARNs, names and inputs (read back from the result files); every
 * rerun child starts from the ItemProcessor's first state (there is no child history to resume
 * from); RedriveCount + 1 for STANDARD children that had run; new files numbered after the
 * highest index of the old manifest, so the old files stay; the same tolerated-failure rule over
 * all of the Map Run's items. The parent's redrive (`redriveLocalExecution`) calls it and goes on.
 *
 * @param options - the original Map state, the manifest location and the local services
 */
export const redriveMapRun = async (options: RedriveMapRunOptions): Promise<ResultWriterOutput> => {
  const { Bucket, Key } = options.resultWriterDetails;
  const store = storeFor(options.integrations, Bucket, resultWriterFailed);
  const previous = await readResultSet(store, Bucket, Key);
  const standard = options.state.ItemProcessor.ProcessorConfig?.ExecutionType !== 'EXPRESS';
  const itemsIn = (childInput: unknown) =>
    options.state.ItemBatcher ? (childInput as Batch).Items.length : 1;

  const children = [...previous.failed, ...previous.pending].map((old): Child => {
    const childInput = JSON.parse(old.Input) as unknown;
    const redriveCount = old.RedriveCount ?? 0;
    return {
      name: old.Name,
      executionArn: old.ExecutionArn,
      stateMachineArn: old.StateMachineArn,
      input: childInput,
      items: itemsIn(childInput),
      // A PENDING child never ran, so its first run is not a redrive.
      redriveCount: standard && old.Status !== 'PENDING' ? redriveCount + 1 : redriveCount,
    };
  });
  const succeeded = previous.succeeded.map(
    (old): Tally => ({ items: itemsIn(JSON.parse(old.Input) as unknown), status: 'SUCCEEDED' })
  );
  const totalItems = [...succeeded, ...children].reduce((sum, entry) => sum + entry.items, 0);

  const full = { ...options, input: options.input ?? {} };
  const run = await childRun(full);
  const exceeded = await thresholdRule(full, totalItems);
  const tell = await mapRunTeller(full, previous.manifest.MapRunArn);
  const rerun = children.map((child): Tally => ({ items: child.items, status: 'PENDING' }));
  return reported(tell, [...succeeded, ...rerun], async (ran) => {
    const { records, failedItems } = await runChildren(children, run, run.concurrency, exceeded);
    ran([
      ...succeeded,
      ...records.map((result, index) => ({ ...(rerun[index] as Tally), status: result.Status })),
    ]);

    const files = Object.values(previous.manifest.ResultFiles).flat();
    const output = await writeResultSet({
      store,
      bucket: Bucket,
      folder: Key.slice(0, Key.length - 'manifest.json'.length),
      mapRunArn: previous.manifest.MapRunArn,
      records,
      fileIndex: Math.max(-1, ...files.map((file) => fileIndexOf(file.Key))) + 1,
      earlierSucceeded: previous.manifest.ResultFiles.SUCCEEDED,
    });
    options.onMapRun?.(output.ResultWriterDetails);
    if (exceeded(failedItems)) throw exceededError();
    return output;
  });
};
