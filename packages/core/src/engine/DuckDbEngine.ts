import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { TerminalError } from '../errors/index.js';
import { claimSpillFolder, releaseSpillFolder } from './spillFolder.js';
import { withoutData } from './withoutData.js';

/** DuckDB's error when an allocation would pass its memory limit (no spill could avoid it). */
const OUT_OF_MEMORY = /^Out of Memory Error/;

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
  readonly #spill: string;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection, spill: string) {
    this.#instance = instance;
    this.#connection = connection;
    this.#spill = spill;
  }

  static async create(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    // An in-memory database spills to ./.tmp by default, which is read-only in Lambda; and no
    // two engines may share a folder (claimSpillFolder).
    const spill = claimSpillFolder();
    try {
      const instance = await DuckDBInstance.create(options.path ?? ':memory:', {
        threads: String(options.threads ?? 1),
        ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
        temp_directory: spill,
      });
      return new DuckDbEngine(instance, await instance.connect(), spill);
    } catch (error) {
      releaseSpillFolder(spill);
      throw error;
    }
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

  /**
   * Runs statements for their effect. A failure's message holds no data ({@link withoutData});
   * work that needs more memory than DuckDB's limit, after spilling what it can, fails as
   * `Strata.Terminal` naming the limit: a retry on the same function runs out again.
   */
  async run(sql: string): Promise<void> {
    await this.#connection.run(sql).catch((error: unknown) => this.#rethrow(error));
  }

  /**
   * Runs `work` with DuckDB held to `threads` threads (if it has more), and gives it back the
   * threads it had afterwards, also on error.
   *
   * @param threads - at most this many
   * @param work - what to compute
   */
  async withThreads<T>(threads: number, work: () => Promise<T>): Promise<T> {
    const had = await this.scalarNumber("select current_setting('threads')");
    if (had <= threads) return work();
    await this.run(`set threads = ${Math.max(1, Math.floor(threads))}`);
    try {
      return await work();
    } finally {
      await this.run(`set threads = ${had}`);
    }
  }

  /** Runs a query and returns every row as a JSON-safe object; errors as {@link run}'s. */
  async all(sql: string): Promise<JsonRow[]> {
    const reader = await this.#connection
      .runAndReadAll(sql)
      .catch((error: unknown) => this.#rethrow(error));
    return reader.getRowObjectsJson() as JsonRow[];
  }

  /**
   * DuckDB's error again, its message without the data it quoted. Not as `cause`: loggers and
   * error serialisers print causes, which would carry the record along after all.
   */
  async #rethrow(error: unknown): Promise<never> {
    if (!(error instanceof Error)) throw error;
    const message = withoutData(error.message);
    if (!OUT_OF_MEMORY.test(message)) throw new Error(message);
    const limit = await this.#connection
      .runAndReadAll("select current_setting('memory_limit') as m")
      .then((reader) => String(reader.getRowObjectsJson()[0]?.m))
      .catch(() => 'unknown');
    throw new TerminalError(
      `out of memory: the work needs more than DuckDB's memory_limit of ${limit} lets it hold, after spilling what it can to disk (${message})`
    );
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
    releaseSpillFolder(this.#spill);
  }
}
