import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ConnectionOptions, SnowflakeError, StatementOption } from 'snowflake-sdk';
import snowflake from 'snowflake-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../../test/support/localLake.js';
import { ErrorName } from '../../errors/index.js';
import type { QueryOptions, RowBatch } from '../../ports/index.js';
import { classifySnowflakeError, SnowflakeFailure } from './errors.js';
import type {
  SnowflakeColumn,
  SnowflakeConnection,
  SnowflakeStatement,
} from './SnowflakeWarehouse.js';
import { SnowflakeWarehouse } from './SnowflakeWarehouse.js';

const PRIVATE_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  '-----END PRIVATE KEY-----',
].join('\n');

const SQL = 'select id, name, updated_at, payload from sales.orders where updated_at > ?';

/** A snowflake-sdk error as lib/errors.js builds it: a name, a code, maybe a SQLSTATE. */
const sfError = (name: string, code: string | number, message: string, sqlState?: string) =>
  Object.assign(new Error(message), { name, code, sqlState });

const column = (
  name: string,
  type: string,
  precision: number | null = null,
  scale: number | null = null
): SnowflakeColumn => ({
  getName: () => name,
  getType: () => type,
  getPrecision: () => precision as number,
  getScale: () => scale as number,
});

const ORDER_COLUMNS = [
  column('ID', 'fixed', 38, 0),
  column('NAME', 'text'),
  column('UPDATED_AT', 'timestamp_tz', null, 3),
  column('PAYLOAD', 'variant'),
];

/** Rows as the SDK streams them in array mode with fetchAsString ['Number', 'JSON']. */
const orderRow = (n: number) => [
  `1234567890123456789012${n}`,
  `order ${n}`,
  `2026-01-02T03:04:0${n}.123+05:00`,
  `{"n":${n}}`,
];

interface Script {
  /** Errors the successive connect() calls report; later calls succeed. */
  connectErrors?: Error[];
  /** Errors the successive execute() calls report; later calls succeed. */
  executeErrors?: Error[];
  columns?: SnowflakeColumn[];
  /** A fresh row stream per statement. */
  rows?: () => Readable;
}

/** A stub of snowflake-sdk's callback interface; it records what the adapter asked for. */
class StubConnection implements SnowflakeConnection {
  readonly options: ConnectionOptions;
  readonly #script: Script;
  readonly #calls: Calls;
  destroyed = false;

  constructor(options: ConnectionOptions, script: Script, calls: Calls) {
    this.options = options;
    this.#script = script;
    this.#calls = calls;
  }

  connect(callback: (error: SnowflakeError | undefined, connection: unknown) => void): unknown {
    const error = this.#script.connectErrors?.[this.#calls.connect];
    this.#calls.connect++;
    setImmediate(() => callback(error as SnowflakeError | undefined, this));
    return this;
  }

  execute(options: StatementOption): SnowflakeStatement {
    const error = this.#script.executeErrors?.[this.#calls.execute.length];
    this.#calls.execute.push(options);
    const streams = this.#calls.streams;
    const script = this.#script;
    const statement: SnowflakeStatement = {
      getColumns: () => script.columns ?? ORDER_COLUMNS,
      streamRows: () => {
        const stream = script.rows?.() ?? Readable.from([], { objectMode: true });
        streams.push(stream);
        return stream;
      },
    };
    setImmediate(() => options.complete?.(error as never, statement as never));
    return statement;
  }

  destroy(callback: (error: SnowflakeError | undefined, connection: unknown) => void): void {
    this.destroyed = true;
    callback(undefined, this);
  }
}

interface Calls {
  connect: number;
  execute: StatementOption[];
  streams: Readable[];
}

const setup = (script: Script, overrides: { maxRetries?: number } = {}) => {
  const calls: Calls = { connect: 0, execute: [], streams: [] };
  const connections: StubConnection[] = [];
  const sleeps: number[] = [];
  const privateKey = vi.fn(async () => PRIVATE_KEY);
  const warehouse = new SnowflakeWarehouse({
    account: 'myorg-myaccount',
    username: 'STRATA',
    role: 'STRATA_READER',
    warehouse: 'STRATA_WH',
    privateKey,
    baseDelayMs: 500,
    ...overrides,
    connectionFactory: (options) => {
      const connection = new StubConnection(options, script, calls);
      connections.push(connection);
      return connection;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { warehouse, calls, connections, sleeps, privateKey };
};

const OPTIONS: QueryOptions = { batchSize: 2 };

const collect = async (batches: AsyncIterable<RowBatch>): Promise<RowBatch[]> => {
  const out: RowBatch[] = [];
  for await (const batch of batches) out.push(batch);
  return out;
};

const failureOf = async (batches: AsyncIterable<RowBatch>): Promise<Error> => {
  try {
    await collect(batches);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the query to fail');
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Class: SnowflakeWarehouse', () => {
  describe('Method: query', () => {
    it('yields rows in batches of batchSize with DuckDB column types and converted values', async () => {
      // Prepare
      const { warehouse } = setup({
        rows: () => Readable.from([1, 2, 3, 4, 5].map(orderRow), { objectMode: true }),
      });

      // Act
      const batches = await collect(warehouse.query(SQL, OPTIONS));

      // Assess
      expect(batches.map((batch) => batch.rows.length)).toEqual([2, 2, 1]);
      expect(batches[0]?.columns).toEqual([
        { name: 'ID', type: 'DECIMAL(38,0)' },
        { name: 'NAME', type: 'VARCHAR' },
        { name: 'UPDATED_AT', type: 'TIMESTAMPTZ' },
        { name: 'PAYLOAD', type: 'JSON' },
      ]);
      expect(batches[0]?.rows[0]).toEqual({
        ID: '12345678901234567890121',
        NAME: 'order 1',
        UPDATED_AT: '2026-01-01T22:04:01.123Z',
        PAYLOAD: { n: expect.anything() },
      });
      expect(JSON.stringify(batches[2]?.rows[0]?.PAYLOAD)).toBe('{"n":5}');
    });

    it('passes binds, query tag and timeout to the SDK and reuses the connection', async () => {
      // Prepare
      const { warehouse, calls, connections, privateKey } = setup({});
      const options: QueryOptions = {
        batchSize: 10,
        binds: ['2026-01-01', 7, null],
        queryTag: 'strata:run-1:orders',
        timeoutSeconds: 600,
      };

      // Act
      await collect(warehouse.query(SQL, options));
      await collect(warehouse.query('select 1', { batchSize: 1 }));

      // Assess
      expect(connections).toHaveLength(1);
      expect(calls.connect).toBe(1);
      expect(privateKey).toHaveBeenCalledTimes(1);
      expect(connections[0]?.options).toMatchObject({
        account: 'myorg-myaccount',
        username: 'STRATA',
        role: 'STRATA_READER',
        warehouse: 'STRATA_WH',
        authenticator: 'SNOWFLAKE_JWT',
        privateKey: PRIVATE_KEY,
        application: 'strata',
        sfRetryMaxLoginRetries: 0,
        representNullAsStringNull: false,
      });
      expect(calls.execute[0]).toMatchObject({
        sqlText: SQL,
        binds: ['2026-01-01', 7, null],
        streamResult: true,
        fetchAsString: ['Number', 'JSON'],
        parameters: {
          QUERY_TAG: 'strata:run-1:orders',
          STATEMENT_TIMEOUT_IN_SECONDS: 600,
          TIME_OUTPUT_FORMAT: 'HH24:MI:SS.FF9',
        },
      });
      expect(calls.execute[1]?.parameters).not.toHaveProperty('QUERY_TAG');
    });

    it('pulls rows only as the consumer reads and destroys the stream when it stops', async () => {
      // Prepare
      let pulled = 0;
      const highWaterMark = 16;
      const batchSize = 100;
      function* rows() {
        for (let n = 0; n < 10_000; n++) {
          pulled++;
          yield orderRow(n % 10);
        }
      }
      const { warehouse, calls } = setup({
        rows: () => Readable.from(rows(), { objectMode: true, highWaterMark }),
      });

      // Act
      let firstBatch: RowBatch | undefined;
      for await (const batch of warehouse.query(SQL, { batchSize })) {
        firstBatch = batch;
        break;
      }

      // Assess
      expect(firstBatch?.rows).toHaveLength(batchSize);
      expect(pulled).toBeLessThan(2 * batchSize + highWaterMark);
      expect(calls.streams[0]?.destroyed).toBe(true);
    });

    it('fails with Strata.Transient naming the statement, without a retry, when the stream breaks after rows were yielded', async () => {
      // Prepare
      async function* rows() {
        yield orderRow(1);
        yield orderRow(2);
        yield orderRow(3);
        throw sfError('LargeResultSetError', 402002, 'result chunk download failed');
      }
      const { warehouse, calls, sleeps } = setup({
        rows: () => Readable.from(rows(), { objectMode: true }),
      });
      const received: number[] = [];

      // Act
      const error = await failureOf(
        (async function* () {
          for await (const batch of warehouse.query(SQL, OPTIONS)) {
            received.push(batch.rows.length);
            yield batch;
          }
        })()
      );

      // Assess
      expect(received).toEqual([2]);
      expect(error.name).toBe(ErrorName.Transient);
      expect(error.message).toContain('[statement: select id, name, updated_at, payload');
      expect(error.message).toContain('result chunk download failed');
      expect(calls.execute).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it('fails with Strata.Terminal after one connect attempt when the key is rejected, without the key in the message', async () => {
      // Prepare
      const { warehouse, calls, sleeps } = setup({
        connectErrors: [
          sfError(
            'OperationFailedError',
            '390144',
            `JWT token is invalid. [${PRIVATE_KEY}]`,
            '08001'
          ),
        ],
      });

      // Act
      const error = await failureOf(warehouse.query(SQL, OPTIONS));

      // Assess
      expect(error.name).toBe(ErrorName.Terminal);
      expect(error.message).toContain('JWT token is invalid');
      expect(error.message).toContain('390144');
      expect(error.message).not.toContain('BEGIN PRIVATE KEY');
      expect(error.message).not.toContain(
        'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj'
      );
      expect(JSON.stringify(error.cause ?? null)).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEF');
      expect(calls.connect).toBe(1);
      expect(calls.execute).toHaveLength(0);
      expect(sleeps).toEqual([]);
    });

    it('retries a network failure on connect with growing backoff and then delivers the rows', async () => {
      // Prepare
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      const { warehouse, calls, connections, sleeps } = setup({
        connectErrors: [
          sfError('NetworkError', 401001, 'Network error. Could not reach Snowflake.'),
          Object.assign(sfError('NetworkError', 401001, 'socket hang up'), { cause: reset }),
        ],
        rows: () => Readable.from([orderRow(1)], { objectMode: true }),
      });

      // Act
      const batches = await collect(warehouse.query(SQL, OPTIONS));

      // Assess
      expect(batches.map((batch) => batch.rows.length)).toEqual([1]);
      expect(calls.connect).toBe(3);
      expect(connections).toHaveLength(3);
      expect(sleeps).toEqual([250, 500]);
    });

    it('gives up with Strata.Transient after maxRetries transient failures', async () => {
      // Prepare
      const unavailable = () =>
        sfError('OperationFailedError', '000603', 'SQL execution internal error', 'XX000');
      const { warehouse, calls, sleeps } = setup(
        { executeErrors: [unavailable(), unavailable(), unavailable()] },
        { maxRetries: 2 }
      );

      // Act
      const error = await failureOf(warehouse.query(SQL, OPTIONS));

      // Assess
      expect(error.name).toBe(ErrorName.Transient);
      expect(error.message).toContain('[statement: ');
      expect(calls.execute).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
    });

    it('fails with Strata.BadInput naming the statement after one attempt on a SQL compilation error', async () => {
      // Prepare
      const { warehouse, calls, sleeps } = setup({
        executeErrors: [
          sfError(
            'OperationFailedError',
            '002003',
            "SQL compilation error:\nObject 'SALES.ORDERS' does not exist or not authorized.",
            '42S02'
          ),
        ],
      });

      // Act
      const error = await failureOf(warehouse.query(SQL, OPTIONS));

      // Assess
      expect(error.name).toBe(ErrorName.BadInput);
      expect(error.message).toContain(
        '[statement: select id, name, updated_at, payload from sales.orders where updated_at > ?]'
      );
      expect(error.message).toContain('does not exist or not authorized');
      expect(calls.execute).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it('fails with Strata.BadInput naming the column when a type has no mapping', async () => {
      // Prepare
      const { warehouse } = setup({ columns: [column('EMBEDDING', 'vector')] });

      // Act
      const error = await failureOf(warehouse.query(SQL, OPTIONS));

      // Assess
      expect(error.name).toBe(ErrorName.BadInput);
      expect(error.message).toContain('column EMBEDDING');
      expect(error.message).toContain('[statement: ');
    });

    it('yields one empty batch with the columns when there are no rows', async () => {
      // Prepare
      const { warehouse } = setup({
        columns: [column('N', 'fixed', 18, 0)],
        rows: () => Readable.from([], { objectMode: true }),
      });

      // Act
      const batches = await collect(warehouse.query('select 1 as n where false', OPTIONS));

      // Assess
      expect(batches).toEqual([{ columns: [{ name: 'N', type: 'BIGINT' }], rows: [] }]);
    });
  });

  describe('Method: close', () => {
    it('destroys the connection', async () => {
      // Prepare
      const { warehouse, connections } = setup({});
      await collect(warehouse.query(SQL, OPTIONS));

      // Act
      await warehouse.close();

      // Assess
      expect(connections[0]?.destroyed).toBe(true);
    });

    it('does nothing before the first query', async () => {
      // Prepare
      const { warehouse, connections, privateKey } = setup({});

      // Act
      await warehouse.close();

      // Assess
      expect(connections).toHaveLength(0);
      expect(privateKey).not.toHaveBeenCalled();
    });
  });
});

/** A loopback port nothing listens on: connecting to it is refused at once. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 9;
};

describe('Class: SnowflakeWarehouse with the real snowflake-sdk and no server', () => {
  beforeEach(() => {
    // The SDK logs the failed login at ERROR through the adapter's logger.
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });

  const realWarehouse = (port: number, privateKey: string) =>
    new SnowflakeWarehouse({
      account: 'myorg-myaccount',
      username: 'STRATA',
      privateKey: async () => privateKey,
      maxRetries: 1,
      sleep: async () => {},
      connectionFactory: (options) =>
        snowflake.createConnection({ ...options, accessUrl: `http://127.0.0.1:${port}` }),
    });

  it('fails fast with Strata.Transient when the host refuses the connection', async () => {
    // Prepare
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const warehouse = realWarehouse(await closedPort(), privateKey);
    const started = Date.now();

    // Act
    const error = await failureOf(warehouse.query(SQL, OPTIONS));

    // Assess
    expect(error.name).toBe(ErrorName.Transient);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('PRIVATE KEY');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails with Strata.Terminal when the key is not a PEM key, without echoing it', async () => {
    // Prepare
    const notAKey = 'this-is-not-a-pem-private-key-but-still-a-secret';
    const warehouse = realWarehouse(await closedPort(), notAKey);

    // Act
    const error = await failureOf(warehouse.query(SQL, OPTIONS));

    // Assess
    expect(error.name).toBe(ErrorName.Terminal);
    expect(error.message).toContain('404026');
    expect(error.message).not.toContain(notAKey);
  });
});

describe('Function: classifySnowflakeError', () => {
  it.each<[string, unknown, SnowflakeFailure]>([
    ['a dropped socket', { code: 'ECONNRESET' }, SnowflakeFailure.Transient],
    ['could not connect', { name: 'NetworkError', code: 401001 }, SnowflakeFailure.Transient],
    [
      'HTTP 503',
      { name: 'RequestFailedError', code: 401002, response: { statusCode: 503 } },
      SnowflakeFailure.Transient,
    ],
    [
      'HTTP 429',
      { name: 'RequestFailedError', code: 401002, response: { statusCode: 429 } },
      SnowflakeFailure.Transient,
    ],
    [
      'HTTP 403',
      { name: 'RequestFailedError', code: 401002, response: { statusCode: 403 } },
      SnowflakeFailure.Terminal,
    ],
    ['statement timeout', { code: '000630', sqlState: '57014' }, SnowflakeFailure.Transient],
    ['expired session', { code: '390112', sqlState: '08001' }, SnowflakeFailure.Transient],
    ['incorrect credentials', { code: '390100', sqlState: '08004' }, SnowflakeFailure.Terminal],
    ['user locked', { code: '390102', sqlState: '08004' }, SnowflakeFailure.Terminal],
    ['invalid JWT', { code: '390144', sqlState: '08001' }, SnowflakeFailure.Terminal],
    ['invalid private key option', { code: 404026 }, SnowflakeFailure.Terminal],
    ['insufficient privileges', { code: '003001', sqlState: '42501' }, SnowflakeFailure.Terminal],
    ['syntax error', { code: '001003', sqlState: '42000' }, SnowflakeFailure.BadInput],
    ['invalid identifier', { code: '000904', sqlState: '42000' }, SnowflakeFailure.BadInput],
    ['unknown object', { code: '002003', sqlState: '42S02' }, SnowflakeFailure.BadInput],
    ['bad cast', { code: '100038', sqlState: '22018' }, SnowflakeFailure.BadInput],
    ['invalid binds', { code: 409007 }, SnowflakeFailure.BadInput],
    ['anything else', new Error('boom'), SnowflakeFailure.Terminal],
  ])('classifies %s', (_name, error, expected) => {
    // Act & Assess
    expect(classifySnowflakeError(error)).toBe(expected);
  });

  describe('Method: unload', () => {
    let lake: LocalLake;

    beforeEach(async () => {
      lake = await startLocalLake();
    });

    afterEach(async () => {
      await lake.stop();
    });

    it('copies into the stage with lineage literals and fetches the files the stage wrote', async () => {
      // Prepare: the stub stands in for Snowflake and, like COPY INTO, writes the files to the
      // stage (the lake) before the statement completes
      const prefix = '_unload/strata-run-1-orders/';
      const written = [`${prefix}data_0_0_0.snappy.parquet`, `${prefix}data_0_1_0.snappy.parquet`];
      await lake.store.put(`${prefix}data_9_9_9.snappy.parquet`, 'from an earlier attempt');
      const calls: Calls = { connect: 0, execute: [], streams: [] };
      const script: Script = {
        columns: [column('rows_unloaded', 'fixed', 38, 0)],
        rows: () => Readable.from([['2']], { objectMode: true }),
      };
      const unloading = new SnowflakeWarehouse({
        account: 'myorg-myaccount',
        username: 'STRATA',
        privateKey: async () => PRIVATE_KEY,
        connectionFactory: (options) => {
          const connection = new StubConnection(options, script, calls);
          const execute = connection.execute.bind(connection);
          connection.execute = (statement) => {
            const copied = Promise.all(
              written.map((key) => lake.store.put(key, `bytes of ${key}`))
            );
            return execute({
              ...statement,
              complete: (error, result) => {
                void copied.then(() => statement.complete?.(error, result));
              },
            });
          };
          return connection;
        },
        unload: { stage: '@STRATA.PUBLIC.LAKE_UNLOAD', lakePrefix: '_unload/', store: lake.store },
      });
      const dir = join(lake.dir, 'unloaded');

      // Act
      const files = await unloading.unload(SQL, {
        batchSize: 1000,
        binds: ['2026-01-01'],
        queryTag: 'strata:run-1:orders',
        dir,
        lineage: [
          { name: '_source_system', value: "snow'flake\\x", type: 'varchar' },
          { name: '_extracted_at', value: '2026-01-01T00:00:00.000Z', type: 'timestamptz' },
          { name: '_batch', value: 0, type: 'integer' },
        ],
      });

      // Assess
      const statement = calls.execute.at(-1);
      expect(statement?.sqlText).toBe(
        `copy into @STRATA.PUBLIC.LAKE_UNLOAD/strata-run-1-orders/ from (select *, 'snow''flake\\\\x' as "_source_system", '2026-01-01T00:00:00.000Z'::timestamp_tz as "_extracted_at", 0::integer as "_batch" from (\n${SQL}\n) as strata_unload) file_format = (type = parquet) header = true max_file_size = 268435456 overwrite = true`
      );
      expect(statement?.binds).toEqual(['2026-01-01']);
      expect(files).toEqual([
        { path: join(dir, 'unload_0.parquet') },
        { path: join(dir, 'unload_1.parquet') },
      ]);
      expect(await readFile(files[0]?.path ?? '', 'utf8')).toBe(`bytes of ${written[0]}`);
      await unloading.close();
    });

    it('refuses to unload without a stage', async () => {
      // Prepare
      const { warehouse } = setup({});

      // Act
      const attempt = warehouse.unload(SQL, { batchSize: 1, dir: '/tmp/x', lineage: [] });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: ErrorName.BadInput });
    });
  });
});
