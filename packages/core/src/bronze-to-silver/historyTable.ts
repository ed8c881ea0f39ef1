import { quoteIdentifier } from '../config/index.js';
import type { DuckDbEngine, Workspace } from '../engine/index.js';
import { readSilverManifest, silverManifestKey, silverRelation } from '../lake/index.js';
import type { ObjectStore } from '../ports/index.js';
import {
  countHistory,
  createEmptyHistory,
  type HistoryConfig,
  type HistoryCounts,
  historySql,
} from './history.js';
import { bytesOf, type TableWrite, writeMerged } from './mergedTable.js';

/** What a run left in an entity's history table. */
export interface SilverHistory extends HistoryCounts {
  table: string;
  key: string;
  /** Bytes of the history's files this run wrote: a delta, a new base, or none. */
  bytesWritten: number;
  /** Bytes of every file of the history table after the run. */
  bytesTotal: number;
}

/**
 * Writes the entity's history table's change, in the workspace, from its previous versions and
 * the current state of the entity (`<entity>__current`): the versions this run opened and
 * closed, as a merge-on-read delta keyed on the surrogate key (see {@link writeMerged}).
 *
 * @param deps - lake, engine and workspace
 * @param options - the entity, the run, its history config, its key and its extract time (a
 *   timestamptz literal)
 */
export const prepareHistory = async (
  deps: { store: ObjectStore; engine: DuckDbEngine; ws: Workspace },
  options: {
    entity: string;
    runId: string;
    history: HistoryConfig;
    primaryKey: readonly string[];
    extractedAt: string;
  }
): Promise<TableWrite & { counts: SilverHistory }> => {
  const { entity, history } = options;
  const current = quoteIdentifier(`${entity}__current`);
  const previous = quoteIdentifier(`${entity}__history`);
  const before = await readSilverManifest(deps.store, history.table);
  const relation = before ? await silverRelation(deps, before, history.table) : null;
  if (relation) {
    await deps.engine.run(`create or replace temp table ${previous} as select * from ${relation}`);
  } else {
    await createEmptyHistory(deps.engine, previous, current, history);
  }
  const versions = quoteIdentifier(`${entity}__versions`);
  await deps.engine.run(
    `create or replace temp table ${versions} as ${historySql({
      current,
      previous,
      primaryKey: options.primaryKey,
      history,
    })}`
  );
  const write = await writeMerged(deps, {
    table: history.table,
    runId: options.runId,
    key: [history.surrogate_key],
    rows: versions,
    previous: before,
    previousRows: relation ? previous : null,
  });
  const counts = await countHistory(deps.engine, versions, options.extractedAt);
  return {
    ...write,
    before,
    counts: {
      table: history.table,
      key: silverManifestKey(history.table),
      bytesWritten: bytesOf(write.written),
      bytesTotal: bytesOf((write.manifest ?? before)?.files ?? []),
      ...counts,
    },
  };
};
