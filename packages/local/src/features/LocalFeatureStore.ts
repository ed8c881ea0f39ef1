import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { quoteIdentifier, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import {
  type FeatureContract,
  featureRecordSchema,
  recordProblems,
  STORAGE_TYPE,
} from '@strata/core/feature-contract';
import { Lake, writeParquetObject } from '@strata/core/lake';
import type {
  DeleteRecordsResult,
  FailedRecord,
  FeatureDeletion,
  FeatureRecord,
  FeatureSink,
  ObjectStore,
  PutRecordsResult,
} from '@strata/core/ports';

/**
 * The account, region and creation time the local feature groups have, which SageMaker puts in
 * the offline store's path; fixed so every local run writes under the same root.
 */
export const LOCAL_FEATURE_GROUP_OWNER = {
  account: '000000000000',
  region: 'us-east-1',
  createdAt: 1767225600,
} as const;

/** Where the local offline store of a group lies in the lake. */
export const localOfflineRoot = (featureGroup: string): string =>
  Lake.featureOfflineRoot(featureGroup, LOCAL_FEATURE_GROUP_OWNER);

export interface LocalFeatureStoreOptions {
  /** The lake, which holds the offline store as AWS lays it out. */
  store: ObjectStore;
  /** DuckDB file holding the online store: the latest record per identifier. */
  onlinePath: string;
  /** The group's feature definitions: the columns' types, its record id and event time. */
  contract: FeatureContract;
}

/** The typed columns of a batch read from JSON lines: one per feature, of its type. */
const featureColumns = (contract: FeatureContract): string =>
  `{${contract.features.map((f) => `${quoteLiteral(f.name)}: '${STORAGE_TYPE[f.type]}'`).join(', ')}}`;

/**
 * The local stand-in for SageMaker Feature Store.
 *
 * Like PutRecord, it refuses a record that breaks the group's definitions (returned as failed,
 * with the feature named). Offline: each batch lands in the lake in the offline store's layout
 * and Parquet schema — one typed column per feature, then `write_time`, `api_invocation_time`
 * and `is_deleted` — named by the batch's content so a retried batch overwrites itself. Online:
 * one typed record per identifier, replaced only by one with the same or a later event time.
 * Like DeleteRecord (SoftDelete), a deletion removes the online record and appends SageMaker's
 * marker offline: the identifier, the removal's event time, `is_deleted` true, the rest null.
 */
export class LocalFeatureStore implements FeatureSink {
  readonly #options: LocalFeatureStoreOptions;
  readonly #schema: ReturnType<typeof featureRecordSchema>;
  #online: Promise<DuckDbEngine> | undefined;

  constructor(options: LocalFeatureStoreOptions) {
    this.#options = options;
    this.#schema = featureRecordSchema(options.contract);
  }

  async putRecords(
    featureGroup: string,
    records: readonly FeatureRecord[]
  ): Promise<PutRecordsResult> {
    const failed: FailedRecord[] = [];
    const valid: FeatureRecord[] = [];
    for (const record of records) {
      const checked = this.#schema.safeParse(record);
      if (checked.success) valid.push(record);
      else {
        failed.push({
          record,
          error: { name: 'ValidationError', message: recordProblems(checked.error) },
        });
      }
    }
    const written = await this.#writeByHour(featureGroup, valid, false);
    return { written, retried: 0, failed };
  }

  async deleteRecords(
    featureGroup: string,
    deletions: readonly FeatureDeletion[]
  ): Promise<DeleteRecordsResult> {
    const { recordId, eventTime } = this.#options.contract;
    // The marker SageMaker appends: the identifier and the removal's time, every feature null.
    const markers = deletions.map((deletion) => ({
      [recordId]: deletion.recordId,
      [eventTime]: deletion.eventTime,
    }));
    const deleted = await this.#writeByHour(featureGroup, markers, true);
    return { deleted, retried: 0, failed: [] };
  }

  /** Writes records (or deletion markers) in batches of one event-time hour; returns how many. */
  async #writeByHour(
    featureGroup: string,
    records: readonly FeatureRecord[],
    deleted: boolean
  ): Promise<number> {
    const { contract } = this.#options;
    const byHour = new Map<string, FeatureRecord[]>();
    for (const record of records) {
      const hour = new Date(String(record[contract.eventTime])).toISOString().slice(0, 13);
      byHour.set(hour, [...(byHour.get(hour) ?? []), record]);
    }
    let written = 0;
    for (const batch of byHour.values()) written += await this.#write(featureGroup, batch, deleted);
    return written;
  }

  /** Writes records of one event-time hour offline and online; returns how many. */
  async #write(featureGroup: string, records: FeatureRecord[], deleted: boolean): Promise<number> {
    const { contract, store } = this.#options;
    const lines = records.map((record) => JSON.stringify(record)).join('\n');
    const latest = records
      .map((record) => new Date(String(record[contract.eventTime])))
      .reduce((a, b) => (b > a ? b : a));
    const suffix = createHash('sha256').update(`${deleted}\n${lines}`).digest('hex').slice(0, 16);
    const key = Lake.featureOffline(localOfflineRoot(featureGroup), latest, suffix);
    const online = await this.#onlineEngine();
    return Workspace.use('feature-store', async (ws) => {
      const local = ws.path('records.jsonl');
      await writeFile(local, lines);
      const batch = `read_json(${quoteLiteral(local)}, format = 'newline_delimited', columns = ${featureColumns(contract)})`;
      const invoked = `${quoteLiteral(new Date().toISOString())}::timestamptz::timestamp`;
      const written = await writeParquetObject(
        { engine: online, ws, store },
        `select *, ${invoked} as write_time, ${invoked} as api_invocation_time, ${deleted} as is_deleted from ${batch}`,
        key
      );
      const id = `cast(r.${quoteIdentifier(contract.recordId)} as varchar)`;
      const time = `cast(r.${quoteIdentifier(contract.eventTime)} as varchar)`;
      // A removal, like a write, takes effect only over a record of the same or an earlier time.
      await online.run(
        deleted
          ? `delete from online_records as o using ${batch} as r
             where o.feature_group = ${quoteLiteral(featureGroup)} and o.record_identifier = ${id}
               and o.event_time <= ${time}`
          : `insert into online_records
             select ${quoteLiteral(featureGroup)}, ${id}, ${time}, to_json(r)
             from ${batch} as r
             on conflict do update set event_time = excluded.event_time, record = excluded.record
             where excluded.event_time >= online_records.event_time`
      );
      return written;
    });
  }

  /** Records in the online store of `featureGroup`. */
  async onlineCount(featureGroup: string): Promise<number> {
    const online = await this.#onlineEngine();
    return online.scalarNumber(
      `select count(*) from online_records where feature_group = ${quoteLiteral(featureGroup)}`
    );
  }

  /** The online record for an identifier, with typed values, or undefined. */
  async onlineRecord(featureGroup: string, identifier: string): Promise<unknown> {
    const online = await this.#onlineEngine();
    const [row] = await online.all(
      `select record from online_records where feature_group = ${quoteLiteral(featureGroup)} and record_identifier = ${quoteLiteral(identifier)}`
    );
    return row ? JSON.parse(String(row.record)) : undefined;
  }

  async close(): Promise<void> {
    (await this.#online)?.close();
    this.#online = undefined;
  }

  #onlineEngine(): Promise<DuckDbEngine> {
    this.#online ??= DuckDbEngine.create({ path: this.#options.onlinePath }).then(
      async (engine) => {
        await engine.run(`create table if not exists online_records (
        feature_group varchar, record_identifier varchar, event_time varchar, record json,
        primary key (feature_group, record_identifier))`);
        return engine;
      }
    );
    return this.#online;
  }
}
