import { writeFile } from 'node:fs/promises';
import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { Workspace } from '../engine/index.js';
import { TerminalError } from '../errors/index.js';
import { assertRunId, writeParquetFile } from '../lake/index.js';
import type { ObjectStore } from '../ports/index.js';
import {
  addCounts,
  type FeatureIngestPlan,
  FeatureState,
  readJson,
  type SentCounts,
  sentHashes,
  writeJson,
} from './state.js';

export interface FinishFeatureIngestDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  featureGroup: string;
  /** The share of changed records that may fail before the stage fails. */
  maxFailedShare: number;
}

/** What feature-ingest did in a run: the stage's result. */
export interface FeatureIngestResult {
  featureGroup: string;
  /** Records sent this run: new ones, and those whose features changed since they were sent. */
  records: number;
  /** Records whose features are as last sent: not sent again. */
  unchanged: number;
  /** Records sent before and gone from the model (deleted at the source): deleted from the store. */
  deleted: number;
  /** Records gone from the model but kept: more than `max_deleted_share` of the group. */
  deletionsHeld: number;
  /** PutRecord attempts that were pushed back (throttling, 5xx) and tried again. */
  retried: number;
  /** Records not sent: in the dead-letter queue with their error, sent again next run. */
  failed: number;
}

/**
 * Ends a run once every range is sent: sums the ranges' markers, and replaces the hashes of what
 * was last sent with this run's, except for the records that failed, which keep their earlier
 * hash (or none) so the next run sends (or deletes) them again. Then fails the stage if more than the allowed
 * share of the changed records failed. Once the hashes are replaced, the run's range files are
 * deleted and `finished.json` written: a retry then only sums the markers again.
 *
 * @param input - the run
 * @param deps - lake, engine, the group and the failure share allowed
 * @throws TerminalError when a range has no marker, or too many records failed
 */
export const finishFeatureIngest = async (
  input: { runId: string },
  deps: FinishFeatureIngestDeps
): Promise<FeatureIngestResult> => {
  const runId = assertRunId(input.runId);
  const { store, featureGroup: group } = deps;
  const plan = await readJson<FeatureIngestPlan>(store, FeatureState.plan(group, runId));
  if (!plan) throw new TerminalError(`feature-ingest: run ${runId} has no plan for ${group}`);
  let total: SentCounts = { sent: 0, retried: 0, failedIds: [] };
  for (let range = 0; range < plan.ranges; range++) {
    const counts = await readJson<SentCounts>(store, FeatureState.rangeDone(group, runId, range));
    if (!counts) {
      throw new TerminalError(
        `feature-ingest: run ${runId} finished with range ${range} of ${plan.ranges} not sent`
      );
    }
    total = addCounts(total, counts);
  }
  // A retry after the hashes were replaced (and the run's files deleted) has nothing to redo.
  const finished = FeatureState.finished(group, runId);
  if (!(await readJson(store, finished))) {
    await replaceSentHashes({ ...deps, runId }, total.failedIds);
    await writeJson(store, finished, { sent: total.sent, failed: total.failedIds.length });
    // The run's copies of its records are spent; its plan and markers stay as its record.
    await store.delete([
      FeatureState.hashes(group, runId),
      ...Array.from({ length: plan.ranges }, (_, range) => FeatureState.range(group, runId, range)),
    ]);
  }
  const failed = total.failedIds.length;
  const attempted = plan.changed + plan.deleted;
  if (failed > attempted * deps.maxFailedShare) {
    throw new TerminalError(
      `feature-ingest: ${failed} of ${attempted} changed record(s) of ${group} failed, more than the ${deps.maxFailedShare * 100}% allowed; they are in the dead-letter queue with their errors and the next run sends them again`
    );
  }
  return {
    featureGroup: group,
    records: total.sent,
    unchanged: plan.unchanged,
    deleted: total.deleted ?? 0,
    deletionsHeld: plan.deletionsHeld,
    retried: total.retried,
    failed,
  };
};

/** Replaces sent.parquet with the run's hashes, keeping the earlier hash of every failed record. */
const replaceSentHashes = (
  deps: FinishFeatureIngestDeps & { runId: string },
  failedIds: readonly string[]
) => {
  const { store, engine, featureGroup: group, runId } = deps;
  return Workspace.use('feature-finish', async (ws) => {
    const hashes = ws.path('hashes.parquet');
    await store.download(FeatureState.hashes(group, runId), hashes);
    const failed = ws.path('failed.json');
    await writeFile(failed, JSON.stringify(failedIds.map((id) => ({ record_id: id }))));
    const sentBefore = await sentHashes(store, ws, group);
    const failedRows = `read_json(${quoteLiteral(failed)}, columns = {record_id: 'VARCHAR'})`;
    // A record deleted this run is in no hash of the run; one whose deletion failed keeps its
    // earlier hash, so the next run deletes it again.
    const { local } = await writeParquetFile(
      { engine, ws },
      `select h.record_id, case when f.record_id is null then h.features_hash else s.features_hash end as features_hash
       from read_parquet(${quoteLiteral(hashes)}) as h
       left join ${failedRows} as f on f.record_id = h.record_id
       left join ${sentBefore} as s on s.record_id = h.record_id
       union all
       select s.record_id, s.features_hash from ${sentBefore} as s
       semi join ${failedRows} as f on f.record_id = s.record_id
       anti join read_parquet(${quoteLiteral(hashes)}) as h on h.record_id = s.record_id
       order by record_id`,
      FeatureState.sent(group)
    );
    await store.upload(FeatureState.sent(group), local, 'application/vnd.apache.parquet');
  });
};
