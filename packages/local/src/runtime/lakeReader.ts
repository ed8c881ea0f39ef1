import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import type { ObjectStore } from '@strata/core/ports';

/** Counts rows in lake Parquet objects with one DuckDB engine; the objects are downloaded first. */
export interface LakeReader {
  engine: DuckDbEngine;
  /** The workspace the objects are downloaded into. */
  ws: Workspace;
  /** A `read_parquet(...)` source over the objects, to select from. */
  parquet(keys: readonly string[]): Promise<string>;
  /** Rows in the objects (0 for none), optionally only those matching `where`. */
  count(keys: readonly string[], where?: string): Promise<number>;
}

/**
 * Gives `work` a reader that downloads lake objects into a temporary workspace and queries them
 * with DuckDB, so summaries count what is really in the lake rather than what a stage reported.
 *
 * @param store - the lake
 * @param work - what to count
 */
export const withLakeReader = <T>(
  store: ObjectStore,
  work: (reader: LakeReader) => Promise<T>
): Promise<T> =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('summary', async (ws) => {
      let downloaded = 0;
      const parquet = async (keys: readonly string[]) => {
        const files: string[] = [];
        for (const key of keys) {
          const local = ws.path(`${downloaded++}.parquet`);
          await store.download(key, local);
          files.push(quoteLiteral(local));
        }
        return `read_parquet([${files.join(', ')}], union_by_name = true)`;
      };
      const count = async (keys: readonly string[], where = 'true') =>
        keys.length === 0
          ? 0
          : engine.scalarNumber(`select count(*) from ${await parquet(keys)} where ${where}`);
      return work({ engine, ws, parquet, count });
    })
  );
