import { z } from 'zod';
import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import {
  assertRunId,
  catalogColumns,
  Lake,
  silverManifestKey,
  viewSilverTable,
  writeParquetFile,
} from '../lake/index.js';
import type { Catalog, ObjectStore, TableDefinition } from '../ports/index.js';
import {
  brokenRows,
  checkQuality,
  parseQualityRules,
  type QualityReport,
} from '../quality/index.js';
import { GOLD_MODELS, loadGoldModel } from './models.js';

export const silverToGoldInputSchema = z.object({ runId: z.string().min(1) });

export interface SilverToGoldInput {
  runId: string;
}

export interface GoldModelResult {
  model: string;
  key: string;
  rows: number;
  /** The model's quality report for this run: `_quality/<model>/<run>.json`. */
  qualityKey: string;
  /** Rules declared `warn` that failed: reported, not stopping the stage. */
  warnings: number;
}

export interface SilverToGoldResult {
  models: GoldModelResult[];
}

export interface SilverToGoldDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  now?: () => Date;
  /** Where each gold model is registered for queries (Glue, the local catalog). */
  catalog?: Catalog;
}

/** Where a dataset's quality report for a run goes, and the last published run's. */
export const qualityKey = (dataset: string, runId: string) => `_quality/${dataset}/${runId}.json`;
const latestQualityKey = (dataset: string) => `_quality/${dataset}/latest.json`;

/**
 * Builds every gold model from the current silver tables, checks the quality rules each
 * model's header declares, and publishes them together.
 *
 * Each model reads `silver_<entity>` relations named in its header (and `gold_<model>` of the
 * models built before it) and is written whole to `gold/<model>/data.parquet`, so a rerun
 * replaces it. Every run writes each model's report to `_quality/<model>/<run>.json`; a rule
 * that fails at `error` sends the rows that broke it to quarantine with the rule and stops the
 * stage with Strata.QualityFailed before anything is published, so gold stays as it was.
 *
 * @param input - the run
 * @param deps - lake and engine
 */
export const runSilverToGold = async (
  input: SilverToGoldInput,
  deps: SilverToGoldDeps
): Promise<SilverToGoldResult> => {
  assertRunId(input.runId);
  const models = await Promise.all(GOLD_MODELS.map(loadGoldModel));
  return Workspace.use('silver-to-gold', async (ws) => {
    const inputs = [...new Set(models.flatMap((model) => model.inputs))];
    for (const entity of inputs) {
      const view = quoteIdentifier(`silver_${entity}`);
      const read = await viewSilverTable({ ...deps, ws }, entity, view).catch((error: unknown) => {
        throw new BadInputError(
          `silver-to-gold: silver.${entity} cannot be read (${(error as Error).message})`,
          { cause: error }
        );
      });
      if (!read) {
        const users = models.filter((model) => model.inputs.includes(entity)).map((m) => m.name);
        throw new BadInputError(
          `silver-to-gold: model(s) ${users.join(', ')} need silver.${entity}, but ${silverManifestKey(entity)} does not exist; is "${entity}" among the extracted entities?`
        );
      }
    }
    const now = (deps.now ?? (() => new Date()))();
    const built: {
      result: GoldModelResult;
      local: string;
      report: QualityReport;
      table: TableDefinition;
    }[] = [];
    for (const model of models) {
      const relation = quoteIdentifier(`gold_${model.name}`);
      await deps.engine.run(`create or replace temp table ${relation} as ${model.sql}`);
      const rules = parseQualityRules(model.sql);
      const latest = await deps.store.get(latestQualityKey(model.name));
      const report = await checkQuality(deps.engine, {
        dataset: model.name,
        relation,
        rules,
        runId: input.runId,
        now,
        ...(latest
          ? { previousRows: (JSON.parse(new TextDecoder().decode(latest)) as QualityReport).rows }
          : {}),
      });
      const reportKey = qualityKey(model.name, input.runId);
      await deps.store.put(reportKey, JSON.stringify(report, null, 2), 'application/json');
      if (!report.passed) {
        const broken = brokenRows(relation, rules, report);
        const quarantine = Lake.quarantine(`gold_${model.name}`, input.runId);
        if (broken) {
          const { local } = await writeParquetFile({ ...deps, ws }, broken, quarantine);
          await deps.store.upload(quarantine, local, 'application/vnd.apache.parquet');
        }
        const failed = report.rules.filter((rule) => !rule.passed && rule.severity === 'error');
        throw new QualityFailedError(
          `silver-to-gold ${model.name}: ${failed.map((rule) => `${rule.rule} failed (${rule.detail ?? `${rule.failing} row(s)`})`).join('; ')}; report s3 key ${reportKey}${broken ? `, rows in ${quarantine}` : ''}; no gold model was published`
        );
      }
      const key = Lake.goldModel(model.name);
      const { local, rows } = await writeParquetFile(
        { ...deps, ws },
        `select * from ${relation}`,
        key
      );
      const warnings = report.rules.filter((rule) => !rule.passed).length;
      built.push({
        result: { model: model.name, key, rows, qualityKey: reportKey, warnings },
        local,
        report,
        // Its catalog table, typed as the file reads back: a type no catalog can name stops
        // the stage here, before anything is published.
        table: {
          table: model.name,
          layer: 'gold',
          location: `gold/${model.name}/`,
          columns: catalogColumns(
            await deps.engine.all(`describe select * from read_parquet(${quoteLiteral(local)})`),
            `gold.${model.name}`
          ),
          partitionKeys: [],
        },
      });
    }
    // Every model passed: publish them all, then record their counts for the next run's checks.
    for (const { result, local, report, table } of built) {
      await deps.store.upload(result.key, local, 'application/vnd.apache.parquet');
      await deps.store.put(
        latestQualityKey(result.model),
        JSON.stringify(report),
        'application/json'
      );
      await deps.catalog?.upsertTable(table);
    }
    return { models: built.map(({ result }) => result) };
  });
};
