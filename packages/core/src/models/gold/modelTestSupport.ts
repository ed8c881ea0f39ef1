import type { DuckDbEngine, JsonRow } from '../../engine/index.js';
import { checkQuality, parseQualityRules, type RuleOutcome } from '../../quality/index.js';
import type { SqlModel } from '../../silver-to-gold/models.js';

/**
 * Given silver dimension tables, typed like the real ones, and empty orders and line items
 * for a test to fill.
 *
 * @param engine - an in-memory engine
 */
export const givenDimensions = async (engine: DuckDbEngine): Promise<void> => {
  await engine.run(`
    create table silver_region (r_regionkey bigint, r_name varchar);
    insert into silver_region values (0, 'AMERICA'), (1, 'EUROPE');

    create table silver_nation (n_nationkey bigint, n_name varchar, n_regionkey bigint);
    insert into silver_nation values (1, 'CANADA', 0), (2, 'UNITED STATES', 0), (3, 'FRANCE', 1);

    create table silver_customer (c_custkey bigint, c_nationkey bigint, c_mktsegment varchar);
    insert into silver_customer values
      (10, 1, 'BUILDING'), (20, 2, 'MACHINERY'), (30, 3, 'AUTOMOBILE'), (40, 3, 'HOUSEHOLD');

    create table silver_part (p_partkey bigint, p_type varchar);
    insert into silver_part values
      (1, 'STANDARD ANODIZED TIN'), (2, 'PROMO BRUSHED COPPER'), (3, 'STANDARD PLATED STEEL');

    create table silver_orders (
      o_orderkey bigint, o_custkey bigint, o_totalprice decimal(12,2), o_orderdate date
    );
    create table silver_lineitem (
      l_orderkey bigint, l_linenumber bigint, l_quantity decimal(12,2),
      l_extendedprice decimal(12,2), l_discount decimal(12,2), l_partkey bigint
    );
  `);
};

/**
 * Builds a model from the silver tables given and checks the rules its header declares, as
 * silver-to-gold does in a run: its rows, and the rules checked and those that failed.
 *
 * @param engine - the engine holding the silver tables
 * @param model - the model
 * @param previousRows - the last run's row count, for `row_count_change`
 */
export const buildAndCheck = async (
  engine: DuckDbEngine,
  model: SqlModel,
  previousRows: number
): Promise<{ rows: JsonRow[]; checked: string[]; failed: RuleOutcome[] }> => {
  await engine.run(`create table built as ${model.sql}`);
  const report = await checkQuality(engine, {
    dataset: model.name,
    relation: 'built',
    rules: parseQualityRules(model.sql),
    runId: 'run-1',
    now: new Date(),
    previousRows,
  });
  return {
    rows: await engine.all('select * from built'),
    checked: report.rules.map((rule) => rule.rule),
    failed: report.rules.filter((rule) => !rule.passed),
  };
};
