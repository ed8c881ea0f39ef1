import { quoteLiteral } from '@strata/core/config';
import { Lake } from '@strata/core/lake';
import type { ObjectStore } from '@strata/core/ports';
import { localOfflineRoot } from '../features/LocalFeatureStore.js';
import { withLakeReader } from './lakeReader.js';

/** One line of the run summary, counted from the objects in the lake. */
export interface SummaryRow {
  layer: 'bronze' | 'silver' | 'gold' | 'features' | 'quarantine';
  dataset: string;
  rows: number;
  /** The lake prefix holding the dataset. */
  location: string;
  /** What the count covers where layer and dataset do not say: a quarantine reason, say. */
  note?: string;
}

export interface SummarizeOptions {
  runId: string;
  /** The run's event time: features are counted for this run only. */
  runStartedAt: string;
  featureGroup: string;
}

const grouped = async (store: ObjectStore, prefix: string, match: (key: string) => boolean) => {
  const byDataset = new Map<string, string[]>();
  for await (const object of store.list(prefix)) {
    if (!match(object.key)) continue;
    const dataset = object.key.split('/')[1] ?? '';
    byDataset.set(dataset, [...(byDataset.get(dataset) ?? []), object.key]);
  }
  return [...byDataset].sort(([a], [b]) => a.localeCompare(b));
};

const datasetOf = (key: string) => key.split('/')[1] ?? '';

/**
 * Counts what a pipeline run left in the lake by reading the Parquet objects back, not by
 * trusting the stages' own counts: bronze parts of this run, the silver tables and gold models
 * (not the backfill's partitioned silver, which summarizeBackfill counts), this run's feature
 * records, and this run's quarantined rows with their reasons.
 *
 * @param store - the lake
 * @param options - the run's identity
 */
export const summarizeRun = async (
  store: ObjectStore,
  options: SummarizeOptions
): Promise<SummaryRow[]> =>
  withLakeReader(store, async ({ engine, parquet, count }) => {
    const rows: SummaryRow[] = [];
    const runPart = new RegExp(`/part-${options.runId.replace(/[.]/g, '\\.')}-\\d+\\.parquet$`);
    for (const [dataset, keys] of await grouped(store, 'bronze/', (key) => runPart.test(key))) {
      rows.push({
        layer: 'bronze',
        dataset,
        rows: await count(keys),
        location: `bronze/${dataset}/`,
      });
    }
    const tables = {
      silver: (key: string) => key === Lake.silverTable(datasetOf(key)),
      gold: (key: string) => key === Lake.goldModel(datasetOf(key)),
    };
    for (const layer of ['silver', 'gold'] as const) {
      for (const [dataset, keys] of await grouped(store, `${layer}/`, tables[layer])) {
        rows.push({ layer, dataset, rows: await count(keys), location: `${layer}/${dataset}/` });
      }
    }
    const featurePrefix = localOfflineRoot(options.featureGroup);
    const featureKeys: string[] = [];
    for await (const object of store.list(featurePrefix)) featureKeys.push(object.key);
    if (featureKeys.length > 0) {
      const eventTime = new Date(options.runStartedAt).toISOString();
      rows.push({
        layer: 'features',
        dataset: options.featureGroup,
        rows: await count(featureKeys, `event_time = ${quoteLiteral(eventTime)}`),
        location: featurePrefix,
      });
    }
    const quarantined = await grouped(store, 'quarantine/', (key) =>
      key.includes(`/run=${options.runId}/`)
    );
    for (const [dataset, keys] of quarantined) {
      const reasons = await engine.all(
        `select _quarantine_reason as reason, count(*) as n from ${await parquet(keys)} group by 1 order by 1`
      );
      for (const { reason, n } of reasons) {
        rows.push({
          layer: 'quarantine',
          dataset,
          rows: Number(n),
          location: `quarantine/${dataset}/run=${options.runId}/`,
          note: String(reason),
        });
      }
    }
    return rows;
  });
