import type { DuckDbEngine } from '../engine/index.js';

/**
 * The `json_type`s each of `kinds` takes over a relation's rows (SQL nulls aside), in one query
 * grouped by expression. An aggregate `list(distinct …)` per expression builds a hash table of
 * its own: 700 of them over caniuse-db's one record took 9–12 s and 1.5–3 GB, and 1,000 over
 * 3,000 rows ran out of 1.9 GiB; grouped, at most eight rows an expression are ever held.
 *
 * @example
 * ```ts
 * await jsonKinds(engine, 'batch_side', ['json_type("a")', 'json_type("b", \'$.c\')']);
 * // [['BIGINT', 'VARCHAR'], []]
 * ```
 *
 * @param engine - the engine
 * @param relation - a table, or a query in parentheses
 * @param kinds - SQL expressions over its rows, each a `json_type(…)`
 * @returns each expression's kinds, sorted, in the order of `kinds`
 */
export const jsonKinds = async (
  engine: DuckDbEngine,
  relation: string,
  kinds: readonly string[]
): Promise<string[][]> => {
  const found = kinds.map((): string[] => []);
  if (kinds.length === 0) return found;
  const rows = await engine.all(
    `select __strata_n as n, __strata_kind as kind
     from (select unnest(range(${kinds.length})) as __strata_n, unnest([${kinds.join(', ')}]) as __strata_kind from ${relation})
     where __strata_kind is not null group by all order by all`
  );
  for (const row of rows) found[Number(row.n)]?.push(String(row.kind));
  return found;
};
