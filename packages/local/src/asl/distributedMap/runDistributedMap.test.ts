import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../../test/support/localLake.js';
import { ManualClock } from '../clock.js';
import type { LocalFunction, LocalIntegrations } from '../LocalIntegrations.js';
import type { TaskHandlers } from '../payloadLimit.js';
import { redriveLocalExecution, runLocalExecution } from '../runLocalExecution.js';
import type { Json } from './evaluate.js';
import { runDistributedMap } from './runDistributedMap.js';
import type {
  DistributedMapState,
  ExecutionRecord,
  ResultManifest,
  ResultWriterOutput,
} from './shapes.js';

const BUCKET = 'test-lake';
const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:test';
const CONTEXT = {
  Execution: { Id: 'arn:aws:states:us-east-1:000000000000:execution:test:run-1', Name: 'run-1' },
  StateMachine: { Id: MACHINE_ARN, Name: 'test' },
};
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:FlattenBatch';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake(BUCKET);
});

afterAll(async () => {
  await lake.stop();
});

const integrations = (lambda: LocalFunction = async (event) => event): LocalIntegrations => ({
  lambda: () => lambda,
  sendMessage: async () => undefined,
  publish: async () => undefined,
  objectStore: (bucket) => {
    if (bucket !== BUCKET) throw new Error(`unexpected bucket ${bucket}`);
    return lake.store;
  },
});

/** A Distributed Map whose processor is one Task, `Work`, served by the test's handler. */
const mapState = (fields: Partial<DistributedMapState> = {}): DistributedMapState => ({
  Type: 'Map',
  ItemProcessor: {
    ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
    StartAt: 'Work',
    States: { Work: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
  },
  Label: 'Process',
  End: true,
  ...fields,
});

const run = (
  state: DistributedMapState,
  input: unknown,
  work: (input: Json) => Promise<Json> = async (item) => item
) =>
  runDistributedMap({
    state,
    stateName: 'Process',
    input,
    context: CONTEXT,
    mapRunId: 'map-run-1',
    integrations: integrations(),
    handlers: { Work: work } satisfies TaskHandlers,
  });

const s3Reader = (InputType: string, Key: string, config: Record<string, unknown> = {}) => ({
  Resource: 'arn:aws:states:::s3:getObject',
  ReaderConfig: { InputType, ...config },
  Parameters: { Bucket: BUCKET, Key },
});

const readJson = async <T>(key: string): Promise<T> => {
  const body = await lake.store.get(key);
  if (!body) throw new Error(`${key} is missing`);
  return JSON.parse(Buffer.from(body).toString('utf8')) as T;
};

const resultWriter = (Prefix: string) => ({
  Resource: 'arn:aws:states:::s3:putObject',
  Parameters: { Bucket: BUCKET, Prefix },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Function: runDistributedMap', () => {
  it('reads JSONL items from the key the state input names and returns outputs in item order', async () => {
    // Prepare
    await lake.store.put('plans/a.jsonl', '{"n":1}\n{"n":2}\n\n{"n":3}\n');
    const state = mapState({
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: BUCKET, 'Key.$': '$.manifestKey' },
      },
    });

    // Act
    const output = await run(state, { manifestKey: 'plans/a.jsonl' }, async (item) => ({
      doubled: (item as { n: number }).n * 2,
    }));

    // Assess
    expect(output).toEqual([{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }]);
  });

  it('reads a JSON array and stops at MaxItems', async () => {
    // Prepare
    await lake.store.put('plans/a.json', JSON.stringify(['a', 'b', 'c', 'd']));

    // Act
    const output = await run(
      mapState({ ItemReader: s3Reader('JSON', 'plans/a.json', { MaxItems: 2 }) }),
      {}
    );

    // Assess
    expect(output).toEqual(['a', 'b']);
  });

  it('reads CSV rows keyed by the first row, with quotes, padding short rows and dropping extra fields', async () => {
    // Prepare
    const csv = 'key,size\r\n"a,1.parquet",10\n"say ""hi""",20,extra\nshort\n';
    await lake.store.put('plans/a.csv', csv);

    // Act
    const output = await run(
      mapState({ ItemReader: s3Reader('CSV', 'plans/a.csv', { CSVHeaderLocation: 'FIRST_ROW' }) }),
      {}
    );

    // Assess
    expect(output).toEqual([
      { key: 'a,1.parquet', size: '10' },
      { key: 'say "hi"', size: '20' },
      { key: 'short', size: '' },
    ]);
  });

  it('reads CSV with GIVEN headers and a PIPE delimiter, converting types in ItemSelector', async () => {
    // Prepare
    await lake.store.put('plans/b.csv', 'x|[1,2]\ny|[3]\n');
    const state = mapState({
      ItemReader: s3Reader('CSV', 'plans/b.csv', {
        CSVHeaderLocation: 'GIVEN',
        CSVHeaders: ['name', 'list'],
        CSVDelimiter: 'PIPE',
      }),
      ItemSelector: {
        'name.$': '$$.Map.Item.Value.name',
        'list.$': 'States.StringToJson($$.Map.Item.Value.list)',
      },
    });

    // Act
    const output = await run(state, {});

    // Assess
    expect(output).toEqual([
      { name: 'x', list: [1, 2] },
      { name: 'y', list: [3] },
    ]);
  });

  it('applies ItemSelector per item with the Map context, the state input and the execution', async () => {
    // Prepare
    const state = mapState({
      ItemsPath: '$.objects',
      ItemSelector: {
        'index.$': '$$.Map.Item.Index',
        'object.$': '$$.Map.Item.Value',
        'feed.$': '$.feed',
        'runId.$': '$$.Execution.Name',
      },
    });

    // Act
    const output = await run(state, { feed: 'orders', objects: ['k1', 'k2'] });

    // Assess
    expect(output).toEqual([
      { index: 0, object: 'k1', feed: 'orders', runId: 'run-1' },
      { index: 1, object: 'k2', feed: 'orders', runId: 'run-1' },
    ]);
  });

  it('batches by MaxItemsPerBatch with BatchInput in every batch', async () => {
    // Prepare
    const state = mapState({
      ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { feed: 'orders' } },
    });

    // Act
    const output = await run(state, [1, 2, 3, 4, 5]);

    // Assess
    expect(output).toEqual([
      { BatchInput: { feed: 'orders' }, Items: [1, 2] },
      { BatchInput: { feed: 'orders' }, Items: [3, 4] },
      { BatchInput: { feed: 'orders' }, Items: [5] },
    ]);
  });

  it('batches by MaxInputBytesPerBatch measured on the serialized batch', async () => {
    // Prepare
    const items = Array.from({ length: 7 }, (_, i) => ({ key: `object-${i}`, size: 100 + i }));
    const limit = JSON.stringify({ BatchInput: { b: 1 }, Items: items.slice(0, 3) }).length;

    // Act
    const output = (await run(
      mapState({ ItemBatcher: { MaxInputBytesPerBatch: limit, BatchInput: { b: 1 } } }),
      items
    )) as { Items: unknown[] }[];

    // Assess
    expect(output.map((batch) => batch.Items.length)).toEqual([3, 3, 1]);
    for (const batch of output) expect(JSON.stringify(batch).length).toBeLessThanOrEqual(limit);
    expect(output.flatMap((batch) => batch.Items)).toEqual(items);
  });

  it('keeps at most MaxConcurrency children in flight', async () => {
    // Prepare
    let inFlight = 0;
    let most = 0;
    const work = async (item: Json) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await sleep(20);
      inFlight -= 1;
      return item;
    };

    // Act
    const output = await run(mapState({ MaxConcurrency: 3 }), [...Array(10).keys()], work);

    // Assess
    expect(output).toEqual([...Array(10).keys()]);
    expect(most).toBe(3);
  });

  it('succeeds under ToleratedFailurePercentage and lists the failures in FAILED_0.json', async () => {
    // Prepare
    const state = mapState({
      ToleratedFailurePercentage: 25,
      ResultWriter: resultWriter('tolerated'),
    });
    const work = async (item: Json) => {
      if (item === 3 || item === 7)
        throw Object.assign(new Error(`bad ${item}`), { name: 'Strata.BadInput' });
      return item;
    };

    // Act
    const output = (await run(state, [...Array(10).keys()], work)) as ResultWriterOutput;

    // Assess
    const manifest = await readJson<ResultManifest>(output.ResultWriterDetails.Key);
    expect(manifest.ResultFiles.FAILED.map((file) => file.Key)).toEqual([
      'tolerated/map-run-1/FAILED_0.json',
    ]);
    const failed = await readJson<ExecutionRecord[]>('tolerated/map-run-1/FAILED_0.json');
    expect(
      failed.map((record) => ({
        Input: record.Input,
        Error: record.Error,
        Cause: record.Cause,
        Status: record.Status,
      }))
    ).toEqual([
      { Input: '3', Error: 'Strata.BadInput', Cause: 'bad 3', Status: 'FAILED' },
      { Input: '7', Error: 'Strata.BadInput', Cause: 'bad 7', Status: 'FAILED' },
    ]);
    const succeeded = await readJson<ExecutionRecord[]>('tolerated/map-run-1/SUCCEEDED_0.json');
    expect(succeeded).toHaveLength(8);
  });

  it('fails over ToleratedFailureCount, stops starting children and writes the rest as PENDING', async () => {
    // Prepare
    const state = mapState({
      MaxConcurrency: 1,
      ToleratedFailureCount: 1,
      ResultWriter: resultWriter('exceeded'),
    });
    const work = async (item: Json) => {
      if (item === 0 || item === 1) throw new Error('boom');
      return item;
    };

    // Act
    const attempt = run(state, [0, 1, 2, 3, 4], work);

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'States.ExceedToleratedFailureThreshold',
      message: 'The specified tolerated failure threshold was exceeded',
    });
    const manifest = await readJson<ResultManifest>('exceeded/map-run-1/manifest.json');
    expect(manifest.ResultFiles.SUCCEEDED).toEqual([]);
    const pending = await readJson<ExecutionRecord[]>('exceeded/map-run-1/PENDING_0.json');
    expect(pending.map((record) => [record.Input, record.Status])).toEqual([
      ['2', 'PENDING'],
      ['3', 'PENDING'],
      ['4', 'PENDING'],
    ]);
  });

  it('writes the manifest, the result files and its output in the shapes AWS documents', async () => {
    // Prepare
    const state = mapState({ ResultWriter: resultWriter('results') });

    // Act
    const output = await run(state, [{ a: 1 }], async () => ({ ok: true }));

    // Assess
    const mapRunArn = 'arn:aws:states:us-east-1:000000000000:mapRun:test/Process:map-run-1';
    expect(output).toEqual({
      MapRunArn: mapRunArn,
      ResultWriterDetails: { Bucket: BUCKET, Key: 'results/map-run-1/manifest.json' },
    });
    const body = await lake.store.get('results/map-run-1/SUCCEEDED_0.json');
    expect(await readJson('results/map-run-1/manifest.json')).toEqual({
      DestinationBucket: BUCKET,
      MapRunArn: mapRunArn,
      ResultFiles: {
        FAILED: [],
        PENDING: [],
        SUCCEEDED: [{ Key: 'results/map-run-1/SUCCEEDED_0.json', Size: body?.byteLength }],
      },
    });
    const [record] = await readJson<ExecutionRecord[]>('results/map-run-1/SUCCEEDED_0.json');
    expect(Object.keys(record ?? {})).toEqual([
      'ExecutionArn',
      'Input',
      'InputDetails',
      'Name',
      'Output',
      'OutputDetails',
      'RedriveCount',
      'RedriveStatus',
      'RedriveStatusReason',
      'StartDate',
      'StateMachineArn',
      'Status',
      'StopDate',
    ]);
    expect(record).toMatchObject({
      ExecutionArn: `arn:aws:states:us-east-1:000000000000:execution:test/Process:${record?.Name}`,
      Input: '{"a":1}',
      InputDetails: { Included: true },
      Output: '{"ok":true}',
      OutputDetails: { Included: true },
      RedriveCount: 0,
      RedriveStatus: 'NOT_REDRIVABLE',
      RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
      StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:test/Process',
      Status: 'SUCCEEDED',
    });
    expect(record?.Name).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    );
  });
});

/** A backfill machine: plan → Distributed Map of FlattenBatch over a JSONL plan → done. */
const backfill = (map: Record<string, unknown> = {}) => ({
  StartAt: 'Plan',
  States: {
    Plan: { Type: 'Pass', Next: 'Backfill' },
    Backfill: {
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: BUCKET, 'Key.$': '$.manifestKey' },
      },
      ItemSelector: { 'batch.$': '$$.Map.Item.Value', 'feed.$': '$.feed' },
      ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { runId: 'r1' } },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
        StartAt: 'FlattenBatch',
        States: {
          FlattenBatch: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: FUNCTION_ARN, 'Payload.$': '$' },
            OutputPath: '$.Payload',
            Retry: [{ ErrorEquals: ['Strata.Transient'], MaxAttempts: 2, IntervalSeconds: 30 }],
            End: true,
          },
        },
      },
      ResultWriter: resultWriter('backfill'),
      ResultSelector: { 'manifestKey.$': '$.ResultWriterDetails.Key' },
      ResultPath: '$.results',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' }],
      Next: 'Done',
      ...map,
    },
    Done: { Type: 'Succeed' },
    Failed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
  },
});

describe('Function: runDistributedMap with EXPRESS children', () => {
  it('times out a child that runs past 5 minutes of its own, measured per child', async () => {
    // Prepare: one child at a time, each advancing the clock by its item's minutes
    const clock = new ManualClock();
    const work = async (item: Json) => {
      clock.advance((item as { minutes: number }).minutes * 60_000);
      // Lets the limit fire while the handler is still "running", as a Lambda past it would.
      await new Promise(setImmediate);
      return item;
    };
    const express = mapState({
      MaxConcurrency: 1,
      ToleratedFailurePercentage: 100,
      ItemProcessor: {
        ...mapState().ItemProcessor,
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
      },
      ResultWriter: resultWriter('express'),
    });

    // Act
    const output = (await runDistributedMap({
      state: express,
      stateName: 'Process',
      input: [{ minutes: 6 }, { minutes: 4 }, { minutes: 4 }],
      context: CONTEXT,
      mapRunId: 'express-1',
      integrations: integrations(),
      handlers: { Work: work },
      clock,
    })) as ResultWriterOutput;

    // Assess: 14 minutes in all, but only the child that ran 6 of its own timed out
    const manifest = await readJson<ResultManifest>(output.ResultWriterDetails.Key);
    const failed = await readJson<ExecutionRecord[]>(manifest.ResultFiles.FAILED[0]?.Key ?? '');
    expect(failed.map((record) => [record.Status, record.Error, record.Input])).toEqual([
      ['TIMED_OUT', 'States.Timeout', '{"minutes":6}'],
    ]);
    const succeeded = await readJson<ExecutionRecord[]>(
      manifest.ResultFiles.SUCCEEDED[0]?.Key ?? ''
    );
    expect(succeeded).toHaveLength(2);
  });
});

describe('Function: runLocalExecution with a Distributed Map', () => {
  it('runs the map from a JSONL plan, serving the processor Task through integrations.lambda', async () => {
    // Prepare
    await lake.store.put('plans/run.jsonl', ['{"k":1}', '{"k":2}', '{"k":3}'].join('\n'));
    const events: unknown[] = [];
    const flatten: LocalFunction = async (event) => {
      events.push(event);
      return { flattened: (event as { Items: unknown[] }).Items.length };
    };

    // Act
    const outcome = await runLocalExecution({
      definition: backfill(),
      input: { feed: 'orders', manifestKey: 'plans/run.jsonl' },
      executionName: 'bf-1',
      stateMachineName: 'pipeline',
      integrations: integrations(flatten),
    });

    // Assess
    expect(outcome).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        feed: 'orders',
        results: { manifestKey: expect.stringMatching(/^backfill\/.+\/manifest\.json$/) },
      },
    });
    expect(events).toEqual([
      {
        BatchInput: { runId: 'r1' },
        Items: [
          { batch: { k: 1 }, feed: 'orders' },
          { batch: { k: 2 }, feed: 'orders' },
        ],
      },
      { BatchInput: { runId: 'r1' }, Items: [{ batch: { k: 3 }, feed: 'orders' }] },
    ]);
    const key = (outcome as { output: { results: { manifestKey: string } } }).output.results
      .manifestKey;
    const manifest = await readJson<ResultManifest>(key);
    const succeeded = await readJson<ExecutionRecord[]>(
      manifest.ResultFiles.SUCCEEDED[0]?.Key ?? ''
    );
    expect(succeeded.map((record) => JSON.parse(record.Output ?? ''))).toEqual([
      { flattened: 2 },
      { flattened: 1 },
    ]);
  });

  it('catches States.ExceedToleratedFailureThreshold with the Map state Catch', async () => {
    // Prepare
    await lake.store.put('plans/bad.jsonl', '{"k":1}\n');
    const flatten: LocalFunction = async () => {
      throw Object.assign(new Error('cannot flatten'), { name: 'Strata.Terminal' });
    };

    // Act
    const outcome = await runLocalExecution({
      definition: backfill(),
      input: { feed: 'orders', manifestKey: 'plans/bad.jsonl' },
      executionName: 'bf-2',
      stateMachineName: 'pipeline',
      integrations: integrations(flatten),
    });

    // Assess
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });
  });

  it('refuses a Distributed Map it cannot emulate before running anything', async () => {
    // Prepare
    const definition = backfill({
      ItemReader: s3Reader('PARQUET', 'plans/x.parquet'),
    });

    // Act
    const attempt = runLocalExecution({
      definition,
      input: {},
      executionName: 'bf-3',
      stateMachineName: 'pipeline',
      integrations: integrations(),
    });

    // Assess
    await expect(attempt).rejects.toThrow(
      'state Backfill: ItemReader InputType PARQUET (only JSON, JSONL, CSV) is not emulated locally'
    );
  });
});

describe('Function: redriveLocalExecution', () => {
  /** A plan of six items of which 3 and 6 fail while `broken`, in a map that tolerates none. */
  const flaky = async () => {
    await lake.store.put(
      'plans/flaky.jsonl',
      [1, 2, 3, 4, 5, 6].map((k) => `{"k":${k}}`).join('\n')
    );
    const base = backfill({
      ItemBatcher: undefined,
      ItemSelector: undefined,
      ToleratedFailureCount: 0,
      ItemProcessor: {
        ...backfill().States.Backfill.ItemProcessor,
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      },
      ResultSelector: undefined,
      // Uncaught, the Map's failure fails the execution at the Map, where a redrive resumes.
      Catch: undefined,
    });
    const { Failed: _unreachable, ...States } = base.States;
    const state = {
      broken: true,
      calls: [] as number[],
      identity: {
        definition: { ...base, States },
        input: { feed: 'orders', manifestKey: 'plans/flaky.jsonl' },
        executionName: 'bf-4',
        stateMachineName: 'pipeline',
        startTime: '2026-12-07T00:00:00.000Z',
        timeScale: 0.001,
        integrations: integrations(),
      },
    };
    state.identity.integrations = integrations(async (event) => {
      const { k } = event as { k: number };
      state.calls.push(k);
      if (state.broken && k % 3 === 0) {
        throw Object.assign(new Error(`flaky ${k}`), { name: 'Strata.Transient' });
      }
      return { k };
    });
    return state;
  };

  it('resumes the failed Map Run, rerunning only its failed items, and goes on to the end', async () => {
    // Prepare
    const run = await flaky();
    const first = await runLocalExecution(run.identity);
    const details = (first as { redrive?: { mapRun?: { Bucket: string; Key: string } } }).redrive
      ?.mapRun ?? { Bucket: '', Key: '' };
    const before = await readJson<ResultManifest>(details.Key);
    const failedBefore = await readJson<ExecutionRecord[]>(before.ResultFiles.FAILED[0]?.Key ?? '');
    run.broken = false;
    run.calls.length = 0;

    // Act
    const redriven = await redriveLocalExecution({ ...run.identity, outcome: first });

    // Assess
    expect(first).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      redrive: { state: 'Backfill' },
    });
    expect(run.calls.sort()).toEqual([3, 6]);
    expect(redriven).toMatchObject({
      status: 'SUCCEEDED',
      output: { results: { MapRunArn: before.MapRunArn, ResultWriterDetails: details } },
    });
    const after = await readJson<ResultManifest>(details.Key);
    const folder = details.Key.replace('manifest.json', '');
    expect(after).toEqual({
      DestinationBucket: BUCKET,
      MapRunArn: before.MapRunArn,
      ResultFiles: {
        FAILED: [],
        PENDING: [],
        SUCCEEDED: [
          { Key: `${folder}SUCCEEDED_0.json`, Size: expect.any(Number) },
          { Key: `${folder}SUCCEEDED_1.json`, Size: expect.any(Number) },
        ],
      },
    });
    const rerun = await readJson<ExecutionRecord[]>(`${folder}SUCCEEDED_1.json`);
    expect(
      rerun.map(({ Name, ExecutionArn, Input, RedriveCount }) => ({
        Name,
        ExecutionArn,
        Input,
        RedriveCount,
      }))
    ).toEqual(
      failedBefore.map(({ Name, ExecutionArn, Input }) => ({
        Name,
        ExecutionArn,
        Input,
        RedriveCount: 1,
      }))
    );
    expect(failedBefore.map((record) => record.RedriveStatus)).toEqual([
      'REDRIVABLE',
      'REDRIVABLE',
    ]);
  });

  it('refuses an execution that succeeded, whose Map Run it cannot redrive either', async () => {
    // Prepare
    const run = await flaky();
    run.broken = false;
    const succeeded = await runLocalExecution(run.identity);

    // Act
    const attempt = redriveLocalExecution({ ...run.identity, outcome: succeeded });

    // Assess
    expect(succeeded.status).toBe('SUCCEEDED');
    await expect(attempt).rejects.toMatchObject({
      name: 'StepFunctions.ExecutionNotRedrivable',
      message: 'Execution is SUCCEEDED and cannot be redriven',
    });
  });
});
