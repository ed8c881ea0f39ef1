import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import snowflake, {
  type Column,
  type ConnectionOptions,
  type SnowflakeError,
  type StatementOption,
} from 'snowflake-sdk';
import { quoteIdentifier } from '../../config/index.js';
import { BadInputError, isStrataError, TransientError } from '../../errors/index.js';
import type {
  ColumnSpec,
  LineageColumn,
  ObjectStore,
  QueryOptions,
  RowBatch,
  UnloadedFile,
  Warehouse,
} from '../../ports/index.js';
import { describeStatement } from '../DuckDbWarehouse.js';
import { translateSnowflakeError } from './errors.js';
import { duckDbTypeOf, type SnowflakeColumnType, toJsonValue } from './types.js';

/** The part of snowflake-sdk's `Column` the adapter reads. */
export type SnowflakeColumn = Pick<Column, 'getName' | 'getType' | 'getPrecision' | 'getScale'>;

/** The part of snowflake-sdk's `RowStatement` the adapter uses; tests implement it with a stub. */
export interface SnowflakeStatement {
  getColumns(): SnowflakeColumn[] | undefined;
  streamRows(): Readable;
}

/** The part of snowflake-sdk's `Connection` the adapter uses; tests implement it with a stub. */
export interface SnowflakeConnection {
  connect(callback: (error: SnowflakeError | undefined, connection: unknown) => void): unknown;
  execute(options: StatementOption): SnowflakeStatement;
  destroy(callback: (error: SnowflakeError | undefined, connection: unknown) => void): void;
}

export interface SnowflakeWarehouseOptions {
  /** Account identifier, e.g. `myorg-myaccount`. */
  account: string;
  /** The service user the public key is registered on. */
  username: string;
  role?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  /**
   * The user's private key (PKCS#8 PEM), fetched only when the first query connects, e.g. from
   * Secrets Manager. It is handed to the SDK and never logged or put in an error message.
   */
  privateKey: () => Promise<string>;
  /** Retries of a transient failure before the first batch (default 3, so 4 attempts). */
  maxRetries?: number;
  /** First backoff ceiling; it doubles per retry, with full jitter (default 500 ms). */
  baseDelayMs?: number;
  /** Creates the SDK connection (default `snowflake.createConnection`); tests pass a stub. */
  connectionFactory?: (options: ConnectionOptions) => SnowflakeConnection;
  /** Waits between attempts (default a timer); tests pass a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Where `unload` writes: a Snowflake external stage over the lake prefix `lakePrefix`, and the
   * lake itself to read the files back from. Without it, queries can only stream.
   */
  unload?: SnowflakeUnloadTarget;
}

/** An external stage and the lake prefix its URL points at. */
export interface SnowflakeUnloadTarget {
  /** e.g. `@STRATA.PUBLIC.LAKE_UNLOAD`, created over `s3://<lake>/_unload/`. */
  stage: string;
  lakePrefix: string;
  store: ObjectStore;
}

/** Unloaded files are cut at about this size; DuckDB and S3 both like large Parquet files. */
const UNLOAD_FILE_BYTES = 256 * 1024 * 1024;

/** A lineage value as a Snowflake literal (backslash is an escape in Snowflake strings). */
const snowflakeLiteral = (column: LineageColumn): string => {
  const text = `'${String(column.value).replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
  switch (column.type) {
    case 'varchar':
      return text;
    case 'timestamptz':
      return `${text}::timestamp_tz`;
    case 'integer':
      if (!Number.isSafeInteger(column.value)) {
        throw new BadInputError(`lineage ${column.name}: ${column.value} is not an integer`);
      }
      return `${column.value}::integer`;
  }
};

/** No single wait longer than this, however many retries. */
const MAX_DELAY_MS = 20_000;

/**
 * NUMBER and semi-structured values as the server's exact text: a NUMBER(38,0) or a VARIANT
 * number beyond 2^53 would otherwise pass through a JS double. Dates and timestamps stay SfDate
 * objects on purpose: their epoch seconds and nanoseconds are exact, while their string form
 * goes through the session's output formats (milliseconds by default).
 */
const FETCH_AS_STRING: NonNullable<StatementOption['fetchAsString']> = ['Number', 'JSON'];

/**
 * Session parameters sent with every statement. TIME values are only ever returned as text in
 * TIME_OUTPUT_FORMAT (default `HH24:MI:SS`, which drops fractions), so ask for nanoseconds;
 * STRICT_JSON_OUTPUT makes VARIANT text standard JSON (no NaN or undefined tokens).
 */
const STATEMENT_PARAMETERS = {
  TIME_OUTPUT_FORMAT: 'HH24:MI:SS.FF9',
  STRICT_JSON_OUTPUT: true,
} as const;

let sdkConfigured = false;

/**
 * Quiets snowflake-sdk once per process. Its default logger writes INFO lines to the console
 * and to `snowflake.log` in the working directory, which is read-only in Lambda; a custom
 * logger replaces both, and only errors (already secret-masked by the SDK) reach stderr.
 */
const configureSdk = (): void => {
  if (sdkConfigured) return;
  const ignore = () => {};
  snowflake.configure({
    logLevel: 'ERROR',
    customLogger: {
      error: (message: string) => console.error(message),
      warn: ignore,
      info: ignore,
      debug: ignore,
      trace: ignore,
    },
  });
  sdkConfigured = true;
};

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Replaces every occurrence of the key (whole, or any of its base64 lines) with a marker. */
const redactor =
  (secret: string) =>
  (text: string): string => {
    const pieces = [secret.trim(), ...secret.split(/\r?\n/).map((line) => line.trim())].filter(
      (piece) => piece.length >= 16
    );
    return pieces.reduce((out, piece) => out.split(piece).join('[redacted]'), text);
  };

/**
 * {@link Warehouse} over Snowflake with snowflake-sdk: key-pair authentication, one reused
 * connection, rows streamed with backpressure and converted to DuckDB types (see
 * `./README.md` for the mapping and the error classification).
 *
 * A transient failure (network, throttling, service unavailable) is retried with exponential
 * backoff and full jitter, but only until the first batch is yielded; after that the query
 * fails with `Strata.Transient` and the caller's retry reruns the extract, which overwrites
 * its parts deterministically.
 *
 * @example
 * const warehouse = new SnowflakeWarehouse({
 *   account: 'myorg-myaccount',
 *   username: 'STRATA',
 *   role: 'STRATA_READER',
 *   warehouse: 'STRATA_WH',
 *   privateKey: () => secrets.getSecret('strata/snowflake-key'),
 * });
 * for await (const batch of warehouse.query('select * from orders where o_orderdate > ?', {
 *   batchSize: 50_000,
 *   binds: ['2026-01-01'],
 *   queryTag: 'strata:run-1:orders',
 *   timeoutSeconds: 600,
 * })) {
 *   console.log(batch.columns, batch.rows.length);
 * }
 * await warehouse.close();
 */
export class SnowflakeWarehouse implements Warehouse {
  readonly #options: SnowflakeWarehouseOptions;
  readonly #factory: (options: ConnectionOptions) => SnowflakeConnection;
  readonly #sleep: (ms: number) => Promise<void>;
  #connection: Promise<SnowflakeConnection> | undefined;

  /**
   * @param options - account, user, key source, retry policy and test seams
   */
  constructor(options: SnowflakeWarehouseOptions) {
    this.#options = options;
    this.#factory = options.connectionFactory ?? ((config) => snowflake.createConnection(config));
    this.#sleep = options.sleep ?? defaultSleep;
  }

  /** The open connection, connecting on first use; a failed connect is forgotten. */
  #connect(): Promise<SnowflakeConnection> {
    this.#connection ??= this.#open().catch((error: unknown) => {
      this.#connection = undefined;
      throw error;
    });
    return this.#connection;
  }

  async #open(): Promise<SnowflakeConnection> {
    configureSdk();
    const privateKey = await this.#options.privateKey();
    const redact = redactor(privateKey);
    const { account, username, role, warehouse, database, schema } = this.#options;
    try {
      const connection = this.#factory({
        account,
        username,
        ...(role ? { role } : {}),
        ...(warehouse ? { warehouse } : {}),
        ...(database ? { database } : {}),
        ...(schema ? { schema } : {}),
        authenticator: 'SNOWFLAKE_JWT',
        privateKey,
        application: 'strata',
        // The SDK retries a failed login for minutes; the backoff here is the only retry.
        sfRetryMaxLoginRetries: 0,
        // Otherwise string-fetched NULLs arrive as the text 'NULL'.
        representNullAsStringNull: false,
        // Array rows: duplicate column names would collide in object rows.
        rowMode: 'array',
      });
      await new Promise<void>((resolve, reject) => {
        connection.connect((error) => (error ? reject(error) : resolve()));
      });
      return connection;
    } catch (error) {
      const translated = translateSnowflakeError(
        error,
        `snowflake connect ${account} as ${username}`,
        redact
      );
      // Keep the SDK error as the cause only when nothing had to be redacted from it.
      const leaked =
        redact(String((error as Error)?.message)) !== String((error as Error)?.message);
      if (leaked) delete (translated as { cause?: unknown }).cause;
      throw translated;
    }
  }

  /** Runs the statement; resolves when its result is ready to stream. */
  #execute(
    connection: SnowflakeConnection,
    sql: string,
    options: QueryOptions
  ): Promise<SnowflakeStatement> {
    // Per-statement session parameters: no extra round trip, and nothing leaks into the next
    // query on the shared connection (an `alter session` would).
    const parameters: Record<string, string | number | boolean> = { ...STATEMENT_PARAMETERS };
    if (options.queryTag !== undefined) parameters.QUERY_TAG = options.queryTag;
    if (options.timeoutSeconds !== undefined) {
      parameters.STATEMENT_TIMEOUT_IN_SECONDS = Math.ceil(options.timeoutSeconds);
    }
    return new Promise<SnowflakeStatement>((resolve, reject) => {
      const statement = connection.execute({
        sqlText: sql,
        ...(options.binds ? { binds: [...options.binds] } : {}),
        parameters,
        streamResult: true,
        fetchAsString: [...FETCH_AS_STRING],
        rowMode: 'array',
        complete: (error, completed) => {
          if (error) reject(error);
          else resolve((completed as SnowflakeStatement | undefined) ?? statement);
        },
      });
    });
  }

  /** Drops the connection after a failure so the next attempt starts from a fresh login. */
  async #reset(): Promise<void> {
    const current = this.#connection;
    this.#connection = undefined;
    const connection = await current?.catch(() => undefined);
    if (connection) await destroy(connection).catch(() => undefined);
  }

  #delay(retry: number): number {
    const ceiling = Math.min(MAX_DELAY_MS, (this.#options.baseDelayMs ?? 500) * 2 ** (retry - 1));
    return Math.random() * ceiling;
  }

  async *query(sql: string, options: QueryOptions): AsyncIterable<RowBatch> {
    const statementText = describeStatement(sql);
    const maxRetries = this.#options.maxRetries ?? 3;
    for (let attempt = 1; ; attempt++) {
      let yielded = false;
      try {
        const connection = await this.#connect();
        const statement = await this.#execute(connection, sql, options);
        const types = columnTypesOf(statement);
        const columns: ColumnSpec[] = types.map((column) => ({
          name: column.name,
          type: duckDbTypeOf(column),
        }));
        let rows: Record<string, unknown>[] = [];
        // Async iteration reads one row at a time, so the SDK fetches the next result chunk
        // only as the consumer asks; leaving the loop early destroys the stream.
        for await (const raw of statement.streamRows()) {
          rows.push(toRow(raw, types));
          if (rows.length >= options.batchSize) {
            yielded = true;
            yield { columns, rows };
            rows = [];
          }
        }
        if (rows.length > 0 || !yielded) {
          yielded = true;
          yield { columns, rows };
        }
        return;
      } catch (error) {
        const action = `snowflake query [statement: ${statementText}]`;
        if (isStrataError(error) && !error.message.includes(statementText)) {
          error.message = `${action}: ${error.message}`;
        }
        if (yielded) {
          // Rows already went downstream: an in-adapter retry would repeat them, so the
          // caller reruns the whole extract instead. A value that does not convert fails the
          // same way every time, so it stays bad input.
          await this.#reset();
          throw error instanceof BadInputError
            ? error
            : new TransientError(`${action}: failed after rows were read: ${messageOf(error)}`, {
                cause: error,
              });
        }
        const translated = translateSnowflakeError(error, action);
        if (!(translated instanceof TransientError) || attempt > maxRetries) throw translated;
        await this.#reset();
        await this.#sleep(this.#delay(attempt));
      }
    }
  }

  /**
   * `COPY INTO` the stage as Parquet with the lineage columns appended, then fetch the files from
   * the lake into `dir`. The stage path derives from the query tag (run and query), and files a
   * previous attempt left there are deleted first, so a retry never reads stale files.
   */
  async unload(
    sql: string,
    options: QueryOptions & { dir: string; lineage: readonly LineageColumn[] }
  ): Promise<UnloadedFile[]> {
    const target = this.#options.unload;
    if (!target) {
      throw new BadInputError(
        "unload: the Snowflake warehouse has no unload_stage; set warehouse.unload_stage or the query's unload to false"
      );
    }
    const path = (options.queryTag ?? 'strata').replace(/[^A-Za-z0-9_-]+/g, '-');
    const prefix = `${target.lakePrefix}${path}/`;
    const stale: string[] = [];
    for await (const object of target.store.list(prefix)) stale.push(object.key);
    await target.store.delete(stale);

    const lineage = options.lineage
      .map((column) => `${snowflakeLiteral(column)} as ${quoteIdentifier(column.name)}`)
      .join(', ');
    const copy = `copy into ${target.stage}/${path}/ from (select *, ${lineage} from (\n${sql}\n) as strata_unload) file_format = (type = parquet) header = true max_file_size = ${UNLOAD_FILE_BYTES} overwrite = true`;
    // COPY INTO answers with one summary row; reading it runs the statement with this adapter's
    // retries, tag and timeout.
    for await (const _summary of this.query(copy, { ...options, batchSize: 1 })) {
      // nothing to keep
    }

    await mkdir(options.dir, { recursive: true });
    const files: UnloadedFile[] = [];
    for await (const object of target.store.list(prefix)) {
      if (!object.key.endsWith('.parquet')) continue;
      const local = join(options.dir, `unload_${files.length}.parquet`);
      await target.store.download(object.key, local);
      files.push({ path: local });
    }
    return files;
  }

  async close(): Promise<void> {
    const current = this.#connection;
    this.#connection = undefined;
    const connection = await current?.catch(() => undefined);
    if (connection) await destroy(connection);
  }
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const destroy = (connection: SnowflakeConnection): Promise<void> =>
  new Promise((resolve, reject) => {
    connection.destroy((error) => (error ? reject(error) : resolve()));
  });

/** The result's columns, named and typed; duplicate names cannot become JSON object keys. */
const columnTypesOf = (
  statement: SnowflakeStatement
): (SnowflakeColumnType & { name: string })[] => {
  const columns = (statement.getColumns() ?? []).map((column) => ({
    name: column.getName(),
    type: column.getType(),
    precision: column.getPrecision(),
    scale: column.getScale(),
  }));
  const seen = new Set<string>();
  for (const { name } of columns) {
    if (seen.has(name)) {
      throw new BadInputError(`duplicate result column ${name}: alias the columns apart`);
    }
    seen.add(name);
  }
  return columns;
};

/** One SDK row (array mode, or object mode from a custom connection) as a JSON-safe object. */
const toRow = (
  raw: unknown,
  columns: readonly (SnowflakeColumnType & { name: string })[]
): Record<string, unknown> => {
  const row: Record<string, unknown> = {};
  columns.forEach((column, index) => {
    const value = Array.isArray(raw)
      ? raw[index]
      : (raw as Record<string, unknown> | null)?.[column.name];
    row[column.name] = toJsonValue(value, column);
  });
  return row;
};
