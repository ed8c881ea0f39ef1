import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { withoutData } from './withoutData.js';

/**
 * DuckDB's error again, its message without the data it quoted. Not as `cause`: loggers and
 * error serialisers print causes, which would carry the record along after all.
 */
const rethrowWithoutData = (error: unknown): never => {
  throw error instanceof Error ? new Error(withoutData(error.message)) : error;
};

/** JSON-safe row as DuckDB converts it (BIGINT and DECIMAL arrive as strings when unsafe). */
export type JsonRow = Record<string, unknown>;

export interface DuckDbEngineOptions {
  /** Database file; in-memory when omitted. */
  path?: string;
  /** Lambda gives about one vCPU per 1,769 MB, so stages pass what their function has. */
  threads?: number;
  memoryLimit?: string;
}

/**
 * The embedded columnar engine every stage computes with.
 *
 * A thin wrapper over one DuckDB connection: stages move objects between the lake and a local
 * workspace and let DuckDB read and write Parquet there.
 *
 * @example
 * const engine = await DuckDbEngine.create({ threads: 1 });
 * const [row] = await engine.all('select 42 as answer');
 */
export class DuckDbEngine {
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection) {
    this.#instance = instance;
    this.#connection = connection;
  }

  static async create(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const instance = await DuckDBInstance.create(options.path ?? ':memory:', {
      threads: String(options.threads ?? 1),
      ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
      // An in-memory database spills to ./.tmp by default, which is read-only in Lambda.
      temp_directory: join(tmpdir(), 'strata-duckdb-spill'),
    });
    return new DuckDbEngine(instance, await instance.connect());
  }

  /**
   * Runs `work` with a fresh engine and closes it afterwards, also on error.
   *
   * @param options - threads, memory, database file
   * @param work - what to compute
   */
  static async use<T>(
    options: DuckDbEngineOptions,
    work: (engine: DuckDbEngine) => Promise<T>
  ): Promise<T> {
    const engine = await DuckDbEngine.create(options);
    try {
      return await work(engine);
    } finally {
      engine.close();
    }
  }

  /** Runs statements for their effect; a failure's message holds no data ({@link withoutData}). */
  async run(sql: string): Promise<void> {
    await this.#connection.run(sql).catch(rethrowWithoutData);
  }

  /** Runs a query and returns every row as a JSON-safe object; errors as {@link run}'s. */
  async all(sql: string): Promise<JsonRow[]> {
    const reader = await this.#connection.runAndReadAll(sql).catch(rethrowWithoutData);
    return reader.getRowObjectsJson() as JsonRow[];
  }

  /** The single number a `select count(*)`-style query returns. */
  async scalarNumber(sql: string): Promise<number> {
    const [row] = await this.all(sql);
    const value = row ? Object.values(row)[0] : undefined;
    return Number(value ?? 0);
  }

  /** The underlying connection, for adapters that stream results. */
  get connection(): DuckDBConnection {
    return this.#connection;
  }

  close(): void {
    this.#connection.closeSync();
    this.#instance.closeSync();
  }
}
