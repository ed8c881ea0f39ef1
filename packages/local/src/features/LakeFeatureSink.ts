import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, Workspace } from '@strata/core/engine';
import { Lake, writeParquetObject } from '@strata/core/lake';
import type { FeatureRecord, FeatureSink, ObjectStore } from '@strata/core/ports';

/**
 * The local stand-in for SageMaker Feature Store: each batch of records lands in the lake in the
 * offline store's layout (`feature-store/<group>/year=/month=/day=/hour=/`), named by the
 * batch's content hash so a retried batch overwrites itself.
 */
export class LakeFeatureSink implements FeatureSink {
  readonly #store: ObjectStore;
  readonly #eventTimeFeature: string;

  constructor(store: ObjectStore, eventTimeFeature = 'event_time') {
    this.#store = store;
    this.#eventTimeFeature = eventTimeFeature;
  }

  async putRecords(
    featureGroup: string,
    records: readonly FeatureRecord[]
  ): Promise<{ written: number }> {
    if (records.length === 0) return { written: 0 };
    const first = records[0] as FeatureRecord;
    const eventTime = new Date(String(first[this.#eventTimeFeature]));
    if (Number.isNaN(eventTime.getTime())) {
      throw new Error(`feature record has no valid ${this.#eventTimeFeature}`);
    }
    const lines = records.map((record) => JSON.stringify(record)).join('\n');
    const name = createHash('sha256').update(lines).digest('hex').slice(0, 16);
    const key = Lake.featureOffline(featureGroup, eventTime, `part-${name}`);
    return DuckDbEngine.use({}, (engine) =>
      Workspace.use('feature-sink', async (ws) => {
        const local = ws.path('records.jsonl');
        await writeFile(local, lines);
        const written = await writeParquetObject(
          { engine, ws, store: this.#store },
          `select * from read_json(${quoteLiteral(local)}, format = 'newline_delimited')`,
          key
        );
        return { written };
      })
    );
  }
}
