import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { quoteIdentifier, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import { Lake, writeParquetObject } from '@strata/core/lake';
import type { FeatureRecord, FeatureSink, ObjectStore } from '@strata/core/ports';

export interface LocalFeatureStoreOptions {
  /** The lake, which holds the offline store as AWS lays it out. */
  store: ObjectStore;
  /** DuckDB file holding the online store: the latest record per identifier. */
  onlinePath: string;
  recordIdentifier: string;
  eventTime: string;
}

/**
 * The Feature Store's three feature types (Integral, Fractional, String) as DuckDB columns,
 * inferred from the batch, so strings such as event times stay strings.
 */
const featureColumns = (records: readonly FeatureRecord[]): string => {
  const names = [...new Set(records.flatMap((record) => Object.keys(record)))];
  const typeOf = (name: string) => {
    const values = records.map((record) => record[name]).filter((value) => value != null);
    if (values.length > 0 && values.every((value) => Number.isInteger(value))) return 'BIGINT';
    if (values.length > 0 && values.every((value) => typeof value === 'number')) return 'DOUBLE';
    return 'VARCHAR';
  };
  return `{${names.map((name) => `${quoteLiteral(name)}: '${typeOf(name)}'`).join(', ')}}`;
};

/**
 * The local stand-in for SageMaker Feature Store.
 *
 * Offline: each batch lands in the lake under the offline store's layout
 * (`feature-store/<group>/year=/month=/day=/hour=/`), named by the batch's content hash so a
 * retried batch overwrites itself. Online: one row per record identifier, replaced only by a
 * record with the same or a later event time, as PutRecord does.
 */
export class LocalFeatureStore implements FeatureSink {
  readonly #options: LocalFeatureStoreOptions;
  #online: Promise<DuckDbEngine> | undefined;

  constructor(options: LocalFeatureStoreOptions) {
    this.#options = options;
  }

  async putRecords(
    featureGroup: string,
    records: readonly FeatureRecord[]
  ): Promise<{ written: number }> {
    if (records.length === 0) return { written: 0 };
    const { eventTime, recordIdentifier, store } = this.#options;
    const first = records[0] as FeatureRecord;
    const time = new Date(String(first[eventTime]));
    if (Number.isNaN(time.getTime())) {
      throw new Error(`feature record has no valid ${eventTime}`);
    }
    const lines = records.map((record) => JSON.stringify(record)).join('\n');
    const name = createHash('sha256').update(lines).digest('hex').slice(0, 16);
    const key = Lake.featureOffline(featureGroup, time, `part-${name}`);
    const online = await this.#onlineEngine();
    return Workspace.use('feature-store', async (ws) => {
      const local = ws.path('records.jsonl');
      await writeFile(local, lines);
      const batch = `read_json(${quoteLiteral(local)}, format = 'newline_delimited', columns = ${featureColumns(records)})`;
      const written = await writeParquetObject(
        { engine: online, ws, store },
        `select * from ${batch}`,
        key
      );
      await online.run(`
        insert into online_records
        select ${quoteLiteral(featureGroup)}, cast(r.${quoteIdentifier(recordIdentifier)} as varchar),
               cast(r.${quoteIdentifier(eventTime)} as varchar), to_json(r)
        from ${batch} as r
        on conflict do update set event_time = excluded.event_time, record = excluded.record
        where excluded.event_time >= online_records.event_time`);
      return { written };
    });
  }

  /** Records in the online store of `featureGroup`. */
  async onlineCount(featureGroup: string): Promise<number> {
    const online = await this.#onlineEngine();
    return online.scalarNumber(
      `select count(*) from online_records where feature_group = ${quoteLiteral(featureGroup)}`
    );
  }

  /** The online record for an identifier, as GetRecord would return it, or undefined. */
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
