import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DynamoDbCircuitBreaker,
  DynamoDbLedger,
  DynamoDbWatermarkStore,
  S3ObjectStore,
  warehouseFor,
} from '@strata/core/adapters';
import { placeholdersOf, renderAsl } from '@strata/core/asl';
import { CONFIG_KEY } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { BadInputError } from '@strata/core/errors';
import type { FeatureContract } from '@strata/core/feature-contract';
import { loadFeatureContract } from '@strata/core/feature-ingest';
import type { Platform } from '../../../../functions/_shared/platform.js';
import {
  type LocalExecutionOutcome,
  type LocalFunction,
  type LocalIntegrations,
  named,
} from '../asl/LocalIntegrations.js';
import {
  type EventLog,
  type LocalExecutionOptions,
  redriveLocalExecution,
  runLocalExecution,
} from '../asl/runLocalExecution.js';
import { DuckDbCatalog } from '../catalog/DuckDbCatalog.js';
import { LocalDynamoDb } from '../dynamodb/LocalDynamoDb.js';
import { LocalDeadLetterQueue } from '../features/LocalDeadLetterQueue.js';
import { LocalFeatureGroups } from '../features/LocalFeatureGroups.js';
import { LocalFeatureStore } from '../features/LocalFeatureStore.js';
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '../s3/LocalS3.js';
import { advanceDay, type SimulatedDay } from '../warehouse/advanceDay.js';
import { SIMULATION_SCHEMA, seedTpch } from '../warehouse/seedTpch.js';
import { handlerFileOf, loadLocalFunction } from './localFunctions.js';

const REPO = new URL('../../../../', import.meta.url);

/** The state machines in statemachines/, by file name. */
export const MACHINES = ['pipeline', 'backfill', 'weekly-sync'] as const;
export type MachineName = (typeof MACHINES)[number];

/** An execution a runtime ran: what a redrive of it needs. */
interface RanExecution {
  machine: MachineName;
  input: unknown;
  startTime: string;
  outcome: LocalExecutionOutcome;
}

/**
 * Every machine's logical name in stacks/, whose `<Logical>ExecutionsFailed` alarm
 * (stacks/pipeline.ts, stateMachine) alerts on each failed execution.
 */
const ALARMED: Record<MachineName, string> = {
  pipeline: 'Pipeline',
  backfill: 'Backfill',
  'weekly-sync': 'WeeklySync',
};

/** A state machine's name in the embedded runtime, which its local ARN ends with. */
export const localMachineName = (machine: string) => `strata-local-${machine}`;

/** The local ARN of a state machine, as another one names it to start it. */
export const localMachineArn = (machine: string) =>
  `arn:aws:states:us-east-1:000000000000:stateMachine:${localMachineName(machine)}`;

/** The machine a local state machine ARN names; AWS's error when there is none. */
const machineOf = (stateMachineArn: string): MachineName => {
  const machine = MACHINES.find((name) => localMachineArn(name) === stateMachineArn);
  if (!machine) {
    throw named(
      'StepFunctions.StateMachineDoesNotExistException',
      `State Machine Does Not Exist: '${stateMachineArn}'`
    );
  }
  return machine;
};

export interface EmbeddedRuntimeOptions {
  /**
   * Holds the local lake (s3rver's files), the catalog and warehouse databases, the DLQ and
   * alert logs.
   */
  dir: string;
  /** TPC-H scale of the seeded warehouse (0.01 ≈ 60k line items). */
  scale?: number;
  seed?: number;
  /**
   * Start from an empty lake (and catalog) and a newly seeded warehouse instead of the ones a
   * previous run left in `dir`.
   */
  fresh?: boolean;
  /** The port local S3 listens on (`strata serve`); a free one when unset or 0. */
  s3Port?: number;
  /**
   * How long one of AWS's seconds lasts for Retry waits: 1 (the default) waits as AWS does;
   * tests pass a small fraction. Never 0.
   */
  timeScale?: number;
}

export interface ExecuteOptions {
  input?: unknown;
  executionName?: string;
  /**
   * `$$.Execution.StartTime`; pass an earlier execution's to replay it as a redrive does (a
   * redrive keeps the execution's name and start time).
   */
  startTime?: string;
  onEvent?: (event: EventLog) => void;
  /**
   * Wraps a function's real handler for this execution, e.g. to inject a fault in a test: the
   * wrapper gets the real one and returns what runs instead.
   */
  functionOverrides?: Record<string, (real: LocalFunction) => LocalFunction>;
  /** Told how each Map Run of the execution stands, as it starts and as it ends. */
  onMapRunReport?: LocalExecutionOptions['onMapRunReport'];
  /** Stops the execution (StopExecution); see {@link LocalExecutionOptions.signal}. */
  signal?: AbortSignal;
}

/** What a run or a redrive may be given besides the execution's identity and input. */
type RunOptions = Pick<
  ExecuteOptions,
  'onEvent' | 'functionOverrides' | 'onMapRunReport' | 'signal'
>;

export interface DeadLetter {
  queueUrl: string;
  body: string;
}

export interface LocalAlert {
  topicArn: string;
  subject: string | undefined;
  message: string;
}

/** The lake bucket's name in the embedded runtime. */
export const LOCAL_BUCKET = 'strata-lake';

/** The lake bucket's directory on disk, s3rver's files, under a runtime's `--dir`. */
export const lakeDirectory = (dir: string) => join(dir, 's3', LOCAL_BUCKET);

/** The watermark table's name in the embedded runtime. */
export const WATERMARK_TABLE = 'strata-watermarks';

/** The backlog ledger table's name in the embedded runtime. */
export const LEDGER_TABLE = 'strata-ledger';

/** The circuit breakers' table in the embedded runtime (stacks/pipeline.ts, Breakers). */
export const BREAKER_TABLE = 'strata-breakers';

/** The schema of the local catalog the silver tables are views in (`silver.clickstream`). */
export const CATALOG_SCHEMA = 'silver';

/** The file a runtime holds in its directory while it runs: its pid and start time. */
export const LOCK_FILE = 'strata.lock';

/** A runtime that held the directory and ended without stopping (killed), as its lock says. */
export interface DeadHolder {
  pid: number;
  startedAt: string;
  /** The claims it held, ended so this runtime's batches take them over at once. */
  leasesEnded: number;
}

/** Whether a process runs with this pid (one of another user's counts: signalling it is refused). */
const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the directory's lock for this process. A lock whose process is gone was left by a run
 * that was killed: it is replaced and returned; one whose process runs refuses, since two
 * runtimes on one lake and ledger would take each other's claims over.
 */
const takeLock = async (dir: string): Promise<{ pid: number; startedAt: string } | undefined> => {
  const path = join(dir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() });
  try {
    await writeFile(path, mine, { flag: 'wx' });
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const held = JSON.parse(await readFile(path, 'utf8')) as { pid: number; startedAt: string };
  if (held.pid !== process.pid && isRunning(held.pid)) {
    throw new BadInputError(
      `${dir} is in use by strata (pid ${held.pid}, since ${held.startedAt}); wait for it to finish, or delete ${path} if that process is not strata`
    );
  }
  await writeFile(path, mine);
  return held;
};

/** Whether `path` is a warehouse seedTpch finished (it records its settings last). */
const hasSimulation = async (path: string): Promise<boolean> => {
  if (!existsSync(path)) return false;
  return DuckDbEngine.use(
    { path },
    async (engine) =>
      (
        await engine.all(
          `select 1 from information_schema.tables where table_schema = '${SIMULATION_SCHEMA}' and table_name = 'settings'`
        )
      ).length > 0
  ).catch(() => false);
};

/**
 * Strata on one laptop: s3rver for the lake, an embedded DuckDB warehouse seeded with TPC-H,
 * and the real ASL files executed locally with the real handlers.
 *
 * @example
 * const runtime = await EmbeddedRuntime.start({ dir: '.strata' });
 * try { await runtime.execute('pipeline'); } finally { await runtime.stop(); }
 */
export class EmbeddedRuntime {
  readonly dir: string;
  readonly store: S3ObjectStore;
  readonly s3: LocalS3;
  readonly dynamo: LocalDynamoDb;
  /** The extract watermarks, in the local DynamoDB. */
  readonly watermarks: DynamoDbWatermarkStore;
  /** The backlog ledger, in the local DynamoDB. */
  readonly ledger: DynamoDbLedger;
  /** The local catalog: `<dir>/catalog.duckdb`, one view per dataset over the lake's files. */
  readonly catalog: DuckDbCatalog;
  readonly warehousePath: string;
  /** The feature store stand-in: offline records in the lake, the online table on disk. */
  readonly featureStore: LocalFeatureStore;
  /** Where feature-ingest's failed records go: `<dir>/feature-dead-letters.jsonl`. */
  readonly featureDeadLetters: LocalDeadLetterQueue;
  /** The run that held the directory before and was killed, if one was. */
  deadHolder: DeadHolder | undefined;
  /** Whether the warehouse was left by an earlier run, rather than seeded by this one. */
  #carriedOver = false;
  readonly deadLetters: DeadLetter[] = [];
  readonly alerts: LocalAlert[] = [];
  readonly #platform: Platform;
  readonly #s3Client: S3Client;
  readonly #functions = new Map<string, LocalFunction>();
  readonly #timeScale: number;
  /** Every execution this runtime ran, by name: how a redrive finds what it resumes. */
  readonly #executions = new Map<string, RanExecution>();

  private constructor(
    dir: string,
    s3: LocalS3,
    dynamo: LocalDynamoDb,
    warehousePath: string,
    timeScale: number,
    featureContract: FeatureContract
  ) {
    this.dir = dir;
    this.#timeScale = timeScale;
    this.s3 = s3;
    this.dynamo = dynamo;
    this.warehousePath = warehousePath;
    this.#s3Client = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: LOCAL_S3_CREDENTIALS,
    });
    this.store = new S3ObjectStore({ bucket: LOCAL_BUCKET, client: this.#s3Client });
    const onlinePath = join(dir, 'online-store.duckdb');
    this.featureStore = new LocalFeatureStore({
      store: this.store,
      onlinePath,
      contract: featureContract,
    });
    this.featureDeadLetters = new LocalDeadLetterQueue(join(dir, 'feature-dead-letters.jsonl'));
    this.ledger = new DynamoDbLedger({ tableName: LEDGER_TABLE, client: dynamo.client });
    this.watermarks = new DynamoDbWatermarkStore({
      tableName: WATERMARK_TABLE,
      client: dynamo.client,
    });
    this.catalog = new DuckDbCatalog({
      path: join(dir, 'catalog.duckdb'),
      lakeDirectory: lakeDirectory(dir),
      schema: CATALOG_SCHEMA,
    });
    this.#platform = {
      store: this.store,
      watermarks: this.watermarks,
      ledger: this.ledger,
      catalog: this.catalog,
      // The embedded runtime has no Secrets Manager: only the local warehouse needs none.
      warehouse: (config) =>
        warehouseFor(config, {
          secret: async (id) => {
            throw new BadInputError(
              `warehouse: secret ${id} cannot be read locally; use the duckdb warehouse with npm start`
            );
          },
          store: this.store,
        }),
      featureSink: () => this.featureStore,
      featureDeadLetters: () => this.featureDeadLetters,
      featureGroup: (config) => config.feature_group,
      featureGroups: () => new LocalFeatureGroups(onlinePath),
      notifier: () => ({
        notify: (subject, message) =>
          this.#alert({
            topicArn: localAlertTopic(),
            subject,
            message,
          }),
      }),
      breaker: (circuit, settings) =>
        new DynamoDbCircuitBreaker({
          tableName: BREAKER_TABLE,
          circuit,
          settings,
          client: dynamo.client,
        }),
    };
  }

  /**
   * Starts local S3, seeds the warehouse and uploads the default config.
   *
   * @param options - where and how big
   */
  static async start(options: EmbeddedRuntimeOptions): Promise<EmbeddedRuntime> {
    const dir = resolve(options.dir);
    await mkdir(dir, { recursive: true });
    const dead = await takeLock(dir);
    if (options.fresh) {
      await rm(join(dir, 's3'), { recursive: true, force: true });
      await rm(join(dir, 'dynamodb'), { recursive: true, force: true });
      await rm(join(dir, 'catalog.duckdb'), { force: true });
      await rm(join(dir, 'catalog.duckdb.wal'), { force: true });
    }
    await mkdir(join(dir, 's3'), { recursive: true });
    let s3: LocalS3 | undefined;
    let dynamo: LocalDynamoDb | undefined;
    try {
      s3 = await LocalS3.start({
        directory: join(dir, 's3'),
        buckets: [LOCAL_BUCKET],
        port: options.s3Port,
      });
      dynamo = await LocalDynamoDb.start({
        path: join(dir, 'dynamodb'),
        tables: [
          { name: WATERMARK_TABLE, key: 'query' },
          { name: LEDGER_TABLE, key: 'object_key' },
          { name: BREAKER_TABLE, key: 'circuit' },
        ],
      });
      const warehousePath = join(dir, 'warehouse.duckdb');
      // The warehouse lives on between runs, like a real source: seeded once (or with --fresh),
      // then moved on a day at a time.
      const seeded = !options.fresh && (await hasSimulation(warehousePath));
      if (!seeded) {
        await seedTpch({ path: warehousePath, scale: options.scale, seed: options.seed });
      }
      const runtime = new EmbeddedRuntime(
        dir,
        s3,
        dynamo,
        warehousePath,
        options.timeScale ?? 1,
        await loadFeatureContract()
      );
      runtime.#carriedOver = seeded;
      // A killed run's batches are gone with it: their claims need not wait for their leases.
      if (dead) {
        const leasesEnded = await runtime.ledger.expireLeases(new Date());
        runtime.deadHolder = { ...dead, leasesEnded };
      }
      await runtime.putConfig(await runtime.defaultConfig());
      return runtime;
    } catch (error) {
      await dynamo?.stop();
      await s3?.stop();
      await rm(join(dir, LOCK_FILE), { force: true });
      throw error;
    }
  }

  /**
   * config/strata.json with the warehouse swapped for this runtime's embedded database: the
   * queries are the deployed ones, unchanged, since the tables carry Snowflake's names.
   */
  async defaultConfig(): Promise<Record<string, unknown>> {
    const raw = JSON.parse(await readFile(new URL('config/strata.json', REPO), 'utf8'));
    return {
      ...raw,
      warehouse: { type: 'duckdb', path: this.warehousePath, database: 'snowflake_sample_data' },
    };
  }

  /** Writes a config document to the lake as is, valid or not: stages validate it. */
  async putConfig(config: unknown): Promise<void> {
    await this.store.put(CONFIG_KEY, JSON.stringify(config, null, 2), 'application/json');
  }

  /**
   * Runs one execution of a state machine from statemachines/ to its end.
   *
   * @param machine - the state machine's file name
   * @param options - input, execution name, event callback, function overrides
   */
  async execute(
    machine: MachineName,
    options: ExecuteOptions = {}
  ): Promise<LocalExecutionOutcome> {
    const input = options.input ?? {};
    const executionName =
      options.executionName ?? `local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const startTime = options.startTime ?? new Date().toISOString();
    const outcome = await runLocalExecution({
      ...(await this.#run(machine, options)),
      input,
      executionName,
      startTime,
    });
    return this.#ended({ machine, input, startTime, outcome }, executionName);
  }

  /**
   * Redrives an execution this runtime ran, as RedriveExecution does in AWS: only one that did
   * not succeed, resumed at the state that failed (a Distributed Map's failed and pending
   * children, for a Map Run), with its name, input and start time. A Map Run is redriven only
   * this way, through its parent, as in AWS.
   *
   * @param executionName - the execution's name
   * @param options - event callback and function overrides for the redrive
   */
  async redriveExecution(
    executionName: string,
    options: RunOptions = {}
  ): Promise<LocalExecutionOutcome> {
    const earlier = this.#executions.get(executionName);
    if (!earlier) {
      throw named(
        'StepFunctions.ExecutionDoesNotExist',
        `Execution Does Not Exist: '${executionName}'`
      );
    }
    const outcome = await redriveLocalExecution({
      ...(await this.#run(earlier.machine, options)),
      input: earlier.input,
      executionName,
      startTime: earlier.startTime,
      outcome: earlier.outcome,
    });
    return this.#ended({ ...earlier, outcome }, executionName);
  }

  /** What every run of a machine shares: its definition, identity, clock and integrations. */
  async #run(machine: MachineName, options: RunOptions) {
    return {
      definition: await this.definition(machine),
      stateMachineName: localMachineName(machine),
      onEvent: options.onEvent,
      onMapRunReport: options.onMapRunReport,
      signal: options.signal,
      timeScale: this.#timeScale,
      integrations: this.#integrations(options.functionOverrides, options.onEvent),
    };
  }

  /**
   * A state machine's definition as the runtime runs it: statemachines/<machine>.asl.json with
   * its placeholders bound to the local ARNs and sinks.
   *
   * @param machine - the state machine's file name
   */
  async definition(machine: MachineName): Promise<unknown> {
    const template = await readFile(new URL(`statemachines/${machine}.asl.json`, REPO), 'utf8');
    return renderAsl(template, localBindings(placeholdersOf(template)));
  }

  /**
   * The local services an execution integrates with. Nested executions it starts run with the
   * same function overrides and report to the same event callback.
   */
  #integrations(
    overrides: ExecuteOptions['functionOverrides'],
    onEvent?: ExecuteOptions['onEvent']
  ): LocalIntegrations {
    const real =
      (name: string): LocalFunction =>
      async (event, functionName) => {
        let run = this.#functions.get(functionName);
        if (!run) {
          run = await loadLocalFunction(name, this.#platform);
          this.#functions.set(functionName, run);
        }
        return run(event, functionName);
      };
    return {
      lambda: (name) => overrides?.[name]?.(real(name)) ?? real(name),
      sendMessage: async (queueUrl, body) => {
        this.deadLetters.push({ queueUrl, body });
        await appendFile(join(this.dir, 'dead-letter-queue.jsonl'), `${body}\n`);
      },
      // A Distributed Map's ItemReader and ResultWriter name their bucket in the ASL.
      objectStore: (bucket) =>
        bucket === LOCAL_BUCKET
          ? this.store
          : new S3ObjectStore({ bucket, client: this.#s3Client }),
      startExecution: ({ stateMachineArn, name, input }) =>
        this.execute(machineOf(stateMachineArn), {
          input,
          executionName: name,
          functionOverrides: overrides,
          onEvent,
        }),
      publish: (topicArn, subject, message) => this.#alert({ topicArn, subject, message }),
    };
  }

  async #alert(alert: LocalAlert): Promise<void> {
    this.alerts.push(alert);
    await appendFile(
      join(this.dir, 'alerts.log'),
      `${new Date().toISOString()} ${alert.subject ?? ''}: ${alert.message}\n`
    );
  }

  /**
   * Records an execution's end; a failed one of a machine stacks/ alarm on also raises that
   * alarm's alert, as the alarm's SNS action does in AWS (the only alert for a failure no Catch
   * sees, such as a Distributed Map left uncaught for a redrive).
   */
  async #ended(record: RanExecution, executionName: string): Promise<LocalExecutionOutcome> {
    this.#executions.set(executionName, record);
    const { machine, outcome } = record;
    if (outcome.status === 'FAILED') {
      const metric = `${ALARMED[machine]}ExecutionsFailed`;
      await this.#alert({
        topicArn: localAlertTopic(),
        subject: `ALARM: ${metric}`,
        message: `execution ${executionName} failed with ${outcome.error}: ${outcome.cause}`,
      });
    }
    return outcome;
  }

  /**
   * Stops local S3 and DynamoDB and gives the directory up. Claims still held (a run stopped
   * with Ctrl-C) end first: no batch of this runtime runs after it, and the next run takes them
   * over at once instead of waiting for their leases.
   */
  /**
   * Moves a warehouse an earlier run left on by one simulated day (advanceDay), so each pipeline
   * run finds new, changed, late and deleted rows as it would in production; a warehouse this
   * start seeded is left as seeded. Called once a run is sure to go ahead, so a run refused
   * before it starts leaves the warehouse where it was.
   *
   * @returns what the day changed, or nothing for a warehouse this start seeded
   */
  async advanceWarehouse(): Promise<SimulatedDay | undefined> {
    if (!this.#carriedOver) return undefined;
    this.#carriedOver = false;
    return advanceDay({ path: this.warehousePath });
  }

  async stop(): Promise<void> {
    await this.featureStore.close();
    await this.ledger.expireLeases(new Date());
    await this.dynamo.stop();
    await this.s3.stop();
    await rm(join(this.dir, LOCK_FILE), { force: true });
  }
}

/**
 * Local values for an ASL file's placeholders: `<Name>FunctionArn` becomes a Lambda ARN whose
 * function name is `<Name>`, `<Name>StateMachineArn` the local ARN of statemachines/<name>.asl.json
 * (`WeeklySync` → weekly-sync), queue URLs and topic ARNs point at the local sinks.
 *
 * @param placeholders - the names the ASL file uses
 */
export const localBindings = (placeholders: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    placeholders.map((name) => {
      const fn = /^(.+)FunctionArn$/.exec(name);
      if (fn) return [name, `arn:aws:lambda:us-east-1:000000000000:function:${fn[1]}`];
      const machine = /^(.+)StateMachineArn$/.exec(name);
      if (machine) return [name, localMachineArn(handlerFileOf(machine[1] ?? ''))];
      if (name.endsWith('QueueUrl')) return [name, `http://127.0.0.1/000000000000/${name}`];
      if (name.endsWith('TopicArn')) return [name, `arn:aws:sns:us-east-1:000000000000:${name}`];
      if (name.endsWith('BucketName')) return [name, LOCAL_BUCKET];
      throw new Error(`no local binding for placeholder ${name}`);
    })
  );

/** The local alert topic, where the failure branches, the alarms and the health check publish. */
const localAlertTopic = (): string => localBindings(['AlertTopicArn']).AlertTopicArn ?? '';
