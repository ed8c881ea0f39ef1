import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import type { QualityRule, Severity } from './rules.js';

/** How one rule fared in one run. */
export interface RuleOutcome {
  rule: string;
  severity: Severity;
  passed: boolean;
  /** Rows that break it (a table-level rule, freshness or row count, counts 1 when it fails). */
  failing: number;
  /** Why a table-level rule failed, in words. */
  detail?: string;
}

/** A dataset's quality in one run, as `_quality/<dataset>/<run>.json` keeps it. */
export interface QualityReport {
  dataset: string;
  runId: string;
  checkedAt: string;
  rows: number;
  /** No `error` rule failed (warnings may have). */
  passed: boolean;
  rules: RuleOutcome[];
}

/**
 * SQL that is true for a row of `relation` breaking a row-level rule; none for a table-level
 * one.
 */
export const breaks = (rule: QualityRule, relation: string): string | undefined => {
  const column = 'column' in rule ? quoteIdentifier(rule.column) : '';
  switch (rule.kind) {
    case 'not_null':
      return rule.columns.map((c) => `${quoteIdentifier(c)} is null`).join(' or ');
    case 'unique': {
      const key = rule.columns.map(quoteIdentifier).join(', ');
      return `(${key}) in (select (${key}) from ${relation} group by all having count(*) > 1)`;
    }
    case 'accepted_values':
      return `${column} is not null and ${column}::varchar not in (${rule.values.map(quoteLiteral).join(', ')})`;
    case 'range': {
      const outside = [
        ...(rule.min === undefined ? [] : [`${column} < ${rule.min}`]),
        ...(rule.max === undefined ? [] : [`${column} > ${rule.max}`]),
      ];
      return outside.length ? outside.join(' or ') : 'false';
    }
    case 'regex':
      return `${column} is not null and not regexp_full_match(${column}::varchar, ${quoteLiteral(rule.pattern)})`;
    case 'relationships':
      return `${column} is not null and ${column} not in (select ${quoteIdentifier(rule.to)} from ${quoteIdentifier(rule.relation)} where ${quoteIdentifier(rule.to)} is not null)`;
    default:
      return undefined;
  }
};

/**
 * Checks a dataset's rules against the relation holding this run's rows. Row-level rules count
 * the rows that break them; `freshness` fails when the newest value is older than its age at
 * `now` (or there is none); `row_count_change` fails when the row count moved more than its
 * share from the last published run's (`previousRows`; a first run passes it).
 *
 * @param engine - the engine holding the relation
 * @param check - the dataset, the relation, its rules, the run, its time and the last count
 */
export const checkQuality = async (
  engine: DuckDbEngine,
  check: {
    dataset: string;
    relation: string;
    rules: readonly QualityRule[];
    runId: string;
    now: Date;
    previousRows?: number;
  }
): Promise<QualityReport> => {
  // One name for the relation, so a rule's own subqueries (unique) can refer to it.
  await engine.run(`create or replace temp view __checked as select * from ${check.relation}`);
  const rows = await engine.scalarNumber('select count(*) from __checked');
  const outcomes: RuleOutcome[] = [];
  for (const rule of check.rules) {
    const predicate = breaks(rule, '__checked');
    const outcome = (failing: number, detail?: string): RuleOutcome => ({
      rule: rule.declared,
      severity: rule.severity,
      passed: failing === 0,
      failing,
      ...(failing > 0 && detail ? { detail } : {}),
    });
    if (predicate !== undefined) {
      outcomes.push(
        outcome(await engine.scalarNumber(`select count(*) from __checked where ${predicate}`))
      );
    } else if (rule.kind === 'freshness') {
      const column = quoteIdentifier(rule.column);
      const [newest] = await engine.all(
        `select max(${column})::timestamp::varchar as newest, coalesce(max(${column})::timestamp >= ${quoteLiteral(check.now.toISOString())}::timestamptz::timestamp - to_days(${Math.ceil(rule.maxAgeDays)}), false) as fresh from __checked`
      );
      outcomes.push(
        outcome(
          newest?.fresh === true ? 0 : 1,
          `newest ${rule.column} is ${String(newest?.newest ?? 'none')}, older than ${rule.maxAgeDays} days before ${check.now.toISOString()}`
        )
      );
    } else if (rule.kind === 'row_count_change') {
      const before = check.previousRows;
      const change = before
        ? (100 * Math.abs(rows - before)) / before
        : before === 0 && rows > 0
          ? 100
          : 0;
      outcomes.push(
        outcome(
          before !== undefined && change > rule.maxPercent ? 1 : 0,
          `${rows} rows against ${before} in the last run: ${change.toFixed(1)}% change, over ${rule.maxPercent}%`
        )
      );
    }
  }
  await engine.run('drop view __checked');
  return {
    dataset: check.dataset,
    runId: check.runId,
    checkedAt: check.now.toISOString(),
    rows,
    passed: outcomes.every((o) => o.passed || o.severity === 'warn'),
    rules: outcomes,
  };
};

/**
 * The rows that broke the failed `error` rules, each with the rule (`_quality_rule`), for
 * quarantine; none when no row-level error rule failed.
 *
 * @param relation - the relation checked
 * @param rules - its rules
 * @param report - what {@link checkQuality} found
 */
export const brokenRows = (
  relation: string,
  rules: readonly QualityRule[],
  report: QualityReport
): string | undefined => {
  const failed = rules.filter((rule, i) => {
    const outcome = report.rules[i];
    return (
      rule.severity === 'error' &&
      outcome &&
      !outcome.passed &&
      breaks(rule, relation) !== undefined
    );
  });
  if (failed.length === 0) return undefined;
  return failed
    .map(
      (rule) =>
        `select *, ${quoteLiteral(rule.declared)} as _quality_rule from ${relation} where ${breaks(rule, relation) ?? 'false'}`
    )
    .join(' union all by name ');
};
