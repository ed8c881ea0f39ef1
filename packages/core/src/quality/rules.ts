import { BadInputError } from '../errors/index.js';

/** What a rule that fails does: `error` stops the stage, `warn` is reported and lets it go on. */
export type Severity = 'error' | 'warn';

/** A data-quality rule as a model's header declares it, checked on every run. */
export type QualityRule = { severity: Severity; declared: string } & (
  | { kind: 'not_null'; columns: string[] }
  | { kind: 'unique'; columns: string[] }
  | { kind: 'accepted_values'; column: string; values: string[] }
  | { kind: 'range'; column: string; min?: number; max?: number }
  | { kind: 'regex'; column: string; pattern: string }
  | { kind: 'relationships'; column: string; relation: string; to: string }
  | { kind: 'freshness'; column: string; maxAgeDays: number }
  | { kind: 'row_count_change'; maxPercent: number }
);

/** Column and relation names a rule may name: they end up in SQL, so nothing else passes. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const name = (text: string, rule: string): string => {
  const trimmed = text.trim();
  if (!NAME.test(trimmed)) {
    throw new BadInputError(`quality rule ${rule}: "${trimmed}" is not a column name`);
  }
  return trimmed;
};

const number = (text: string, rule: string): number | undefined => {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  if (!Number.isFinite(value))
    throw new BadInputError(`quality rule ${rule}: "${trimmed}" is no number`);
  return value;
};

/** `column: rest`, as most rules take their arguments. */
const columnAnd = (args: string, rule: string): [string, string] => {
  const colon = args.indexOf(':');
  if (colon < 0) throw new BadInputError(`quality rule ${rule}: expected "<column>: …"`);
  return [name(args.slice(0, colon), rule), args.slice(colon + 1).trim()];
};

/** One rule from its text, e.g. `warn range(order_count: 0..)`. */
const parseRule = (text: string): QualityRule => {
  const match = /^(warn\s+)?([a-z_]+)\(([\s\S]*)\)$/.exec(text.trim());
  if (!match)
    throw new BadInputError(`quality rule "${text.trim()}": expected <rule>(<arguments>)`);
  const [, warn, kind = '', args = ''] = match;
  const base = { severity: (warn ? 'warn' : 'error') as Severity, declared: text.trim() };
  const rule = `"${base.declared}"`;
  switch (kind) {
    case 'not_null':
    case 'unique':
      return { ...base, kind, columns: args.split(',').map((column) => name(column, rule)) };
    case 'accepted_values': {
      const [column, values] = columnAnd(args, rule);
      return { ...base, kind, column, values: values.split('|').map((value) => value.trim()) };
    }
    case 'range': {
      const [column, bounds] = columnAnd(args, rule);
      const [min = '', max = '', extra] = bounds.split('..');
      if (extra !== undefined || !bounds.includes('..')) {
        throw new BadInputError(`quality rule ${rule}: expected "<column>: <min>..<max>"`);
      }
      const [low, high] = [number(min, rule), number(max, rule)];
      return {
        ...base,
        kind,
        column,
        ...(low === undefined ? {} : { min: low }),
        ...(high === undefined ? {} : { max: high }),
      };
    }
    case 'regex': {
      const [column, pattern] = columnAnd(args, rule);
      if (!/^\/.*\/$/s.test(pattern)) {
        throw new BadInputError(`quality rule ${rule}: the pattern goes between slashes, /…/`);
      }
      return { ...base, kind, column, pattern: pattern.slice(1, -1) };
    }
    case 'relationships': {
      const [column, target] = columnAnd(args, rule);
      const parts = target.split('.');
      const to = parts.pop() ?? '';
      const relation = parts.map((part) => name(part, rule)).join('_');
      if (!relation)
        throw new BadInputError(
          `quality rule ${rule}: expected "<column>: <layer>.<table>.<column>"`
        );
      return { ...base, kind, column, relation, to: name(to, rule) };
    }
    case 'freshness': {
      const [column, age] = columnAnd(args, rule);
      const days = /^([0-9.]+)\s*days?$/.exec(age)?.[1];
      if (!days) throw new BadInputError(`quality rule ${rule}: expected "<column>: <n> days"`);
      return { ...base, kind, column, maxAgeDays: Number(days) };
    }
    case 'row_count_change': {
      const percent = /^([0-9.]+)\s*%$/.exec(args.trim())?.[1];
      if (!percent) throw new BadInputError(`quality rule ${rule}: expected "<n>%"`);
      return { ...base, kind, maxPercent: Number(percent) };
    }
    default:
      throw new BadInputError(
        `quality rule ${rule}: unknown rule "${kind}" (not_null, unique, accepted_values, range, regex, relationships, freshness, row_count_change)`
      );
  }
};

/** Splits a `tests:` line at its semicolons, except those inside a `/…/` pattern. */
const splitRules = (line: string): string[] => {
  const rules: string[] = [];
  let current = '';
  let inPattern = false;
  for (const character of line) {
    if (character === '/') inPattern = !inPattern;
    if (character === ';' && !inPattern) {
      rules.push(current);
      current = '';
    } else current += character;
  }
  rules.push(current);
  return rules.map((rule) => rule.trim()).filter(Boolean);
};

/**
 * The rules a model's header declares on its `-- tests:` lines, separated by semicolons; a
 * rule prefixed `warn` is reported without stopping the stage.
 *
 * @example
 * ```sql
 * -- tests:  unique(customer_id); not_null(customer_id, order_count)
 * -- tests:  range(order_count: 0..); warn accepted_values(region: AMERICA | EUROPE | ASIA)
 * -- tests:  regex(customer_id: /[0-9]+/); relationships(customer_id: silver.customer.c_custkey)
 * -- tests:  freshness(last_order_date: 400 days); warn row_count_change(20%)
 * ```
 *
 * @param sql - the model file's text
 */
export const parseQualityRules = (sql: string): QualityRule[] =>
  [...sql.matchAll(/^--[ \t]*tests:[ \t]*(.+)$/gm)].flatMap((line) =>
    splitRules(line[1] ?? '').map(parseRule)
  );
