import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { Workspace } from '../engine/index.js';
import { BadInputError } from '../errors/index.js';
import {
  contractMismatches,
  type FeatureContract,
  parseFeatureContract,
} from '../feature-contract/index.js';
import { assertRunId, eachLimited, Lake, writeParquetFile } from '../lake/index.js';
import type { ObjectStore } from '../ports/index.js';
import { loadGoldModel } from '../silver-to-gold/models.js';
import { type FeatureIngestPlan, FeatureState, readJson, sentHashes, writeJson } from './state.js';

/** The gold model feature-ingest publishes, one record per customer. */
export const FEATURE_MODEL = 'ml_features';

/**
 * The most ranges a run fans out to: the Map's state stays a few KiB and its history well under
 * the 25,000 events a standard execution may have; past it, ranges grow instead.
 */
export const MAX_RANGES = 1_000;

/** The feature contract gold ml_features declares in its header. */
export const loadFeatureContract = async (): Promise<FeatureContract> =>
  parseFeatureContract(FEATURE_MODEL, (await loadGoldModel(FEATURE_MODEL)).sql);

/** How a run spreads its records: what config.feature_ingest sets. */
export interface FeatureIngestSettings {
  recordsPerBatch: number;
  recordsPerRange: number;
  /** The share of changed records that may fail before the stage fails. */
  maxFailedShare: number;
  /** The share of the records last sent that one run may delete; past it, none are. */
  maxDeletedShare: number;
}

export interface PlanFeatureIngestDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  featureGroup: string;
  contract: FeatureContract;
  settings: FeatureIngestSettings;
}

/** What the plan step returns to the state machine: counts and the ranges to map over. */
export interface FeatureIngestPlanResult {
  featureGroup: string;
  changed: number;
  unchanged: number;
  deleted: number;
  deletionsHeld: number;
  /** The ranges' numbers, 0..n-1: the Map's items. */
  ranges: number[];
}

const planResult = (plan: FeatureIngestPlan): FeatureIngestPlanResult => ({
  featureGroup: plan.featureGroup,
  changed: plan.changed,
  unchanged: plan.unchanged,
  deleted: plan.deleted,
  deletionsHeld: plan.deletionsHeld,
  ranges: Array.from({ length: plan.ranges }, (_, i) => i),
});

/** Records per range: the configured number rounded up to whole batches, grown to keep ≤ MAX_RANGES. */
const rangeSize = (changed: number, settings: FeatureIngestSettings): number => {
  const batch = settings.recordsPerBatch;
  const wanted = Math.max(settings.recordsPerRange, Math.ceil(changed / MAX_RANGES));
  return Math.ceil(wanted / batch) * batch;
};

/**
 * Plans a run: reads gold `ml_features`, checks its columns against the feature contract, hashes
 * every record's features and keeps those new or changed since they were last sent (the lake's
 * `_features/<group>/sent.parquet`), and those sent before that the model no longer has (to be
 * deleted), numbered in record-id order and cut into ranges of whole
 * batches, each range written to the lake for its own invocation. The plan is written last, and
 * a retry of the step finds it and returns it as it was.
 *
 * @param input - the run and its start, which is every record's event time
 * @param deps - lake, engine, the group, its contract and the settings
 * @throws BadInputError naming each feature the model's columns disagree with
 */
export const planFeatureIngest = async (
  input: { runId: string; runStartedAt: string },
  deps: PlanFeatureIngestDeps
): Promise<FeatureIngestPlanResult> => {
  const runId = assertRunId(input.runId);
  const { engine, store, featureGroup: group, contract, settings } = deps;
  const done = await readJson<FeatureIngestPlan>(store, FeatureState.plan(group, runId));
  if (done) return planResult(done);
  return Workspace.use('feature-plan', async (ws) => {
    const local = ws.path('ml_features.parquet');
    await store.download(Lake.goldModel(FEATURE_MODEL), local);
    const source = `read_parquet(${quoteLiteral(local)})`;
    const columns = await engine.all(`describe select * from ${source}`);
    const problems = contractMismatches(
      contract,
      columns.map((c) => ({ name: String(c.column_name), type: String(c.column_type) }))
    );
    if (problems.length > 0) {
      throw new BadInputError(
        `feature-ingest: gold ${FEATURE_MODEL} does not match the feature contract in its header: ${problems.join('; ')}`
      );
    }
    const id = quoteIdentifier(contract.recordId);
    await engine.run(
      `create or replace temp table features as select *, md5(to_json(f)::varchar) as __hash from ${source} as f`
    );
    const sent = await sentHashes(store, ws, group);
    const idType = String(columns.find((c) => c.column_name === contract.recordId)?.column_type);
    // Changed records, then those sent before and gone from the model (deleted at the source):
    // those are removed from the store, a row with only the identifier and __deleted.
    await engine.run(`
      create or replace temp table changed as
      select *, row_number() over (order by __deleted, ${id}) - 1 as __n from (
        select f.*, false as __deleted from features as f
        left join ${sent} as s on s.record_id = f.${id}::varchar
        where s.features_hash is distinct from f.__hash
        union all by name
        select cast(s.record_id as ${idType}) as ${id}, true as __deleted from ${sent} as s
        where s.features_hash is not null
          and not exists (select 1 from features as f where f.${id}::varchar = s.record_id)
      )`);
    const total = await engine.scalarNumber('select count(*) from features');
    const changed = await engine.scalarNumber('select count(*) from changed where not __deleted');
    const gone = await engine.scalarNumber('select count(*) from changed where __deleted');
    const sentBefore = await engine.scalarNumber(
      `select count(*) from ${sent} where features_hash is not null`
    );
    // Deletions come last in __n, so holding them leaves the numbering whole.
    const held = gone > sentBefore * settings.maxDeletedShare ? gone : 0;
    if (held > 0) await engine.run('delete from changed where __deleted');
    const deleted = gone - held;
    const perRange = rangeSize(changed + deleted, settings);
    const plan: FeatureIngestPlan = {
      featureGroup: group,
      runId,
      eventTime: new Date(input.runStartedAt).toISOString(),
      total,
      changed,
      unchanged: total - changed,
      deleted,
      deletionsHeld: held,
      recordsPerBatch: settings.recordsPerBatch,
      recordsPerRange: perRange,
      ranges: Math.ceil((changed + deleted) / perRange),
    };
    const ranges = Array.from({ length: plan.ranges }, (_, i) => i);
    // DuckDB's connection runs one statement at a time: write each range, then upload in parallel.
    const files: { local: string; key: string }[] = [];
    for (const range of ranges) {
      const key = FeatureState.range(group, runId, range);
      const { local: file } = await writeParquetFile(
        { engine, ws },
        `select * from changed where __n >= ${range * perRange} and __n < ${(range + 1) * perRange} order by __n`,
        key
      );
      files.push({ local: file, key });
    }
    await eachLimited(files, 8, ({ local: file, key }) =>
      store.upload(key, file, 'application/vnd.apache.parquet')
    );
    // Held deletions keep the hash they were sent with: a later run deletes or resends them.
    const { local: hashes } = await writeParquetFile(
      { engine, ws },
      `select ${id}::varchar as record_id, __hash as features_hash from features
       ${held > 0 ? `union all select s.record_id, s.features_hash from ${sent} as s where s.features_hash is not null and not exists (select 1 from features as f where f.${id}::varchar = s.record_id)` : ''}
       order by record_id`,
      FeatureState.hashes(group, runId)
    );
    await store.upload(FeatureState.hashes(group, runId), hashes, 'application/vnd.apache.parquet');
    await writeJson(store, FeatureState.plan(group, runId), plan);
    return planResult(plan);
  });
};
