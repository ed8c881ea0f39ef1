import { type QueryConfig, quoteIdentifier } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';

/** How a query keeps its history: the config's `history` block, present. */
export type HistoryConfig = NonNullable<QueryConfig['history']>;

/** The columns a history table adds to the entity's own, after them, in this order. */
export const HISTORY_COLUMNS = ['_tracked_hash', 'valid_from', 'valid_to', 'is_current'] as const;

/** What one run did to a history table. */
export interface HistoryCounts {
  versions: number;
  current: number;
  /** Versions this run opened (new rows, changed rows, rows back after a delete). */
  opened: number;
  /** Versions this run closed because the row was deleted at the source. */
  deleted: number;
}

/**
 * A version's surrogate key: 60 bits of the MD5 of its business key and `valid_from` (in
 * microseconds, so no time zone setting changes it). The same version always gets the same key,
 * so a rerun rewrites the table identically instead of numbering it anew.
 */
const surrogateKey = (primaryKey: readonly string[], alias: string, validFrom: string) =>
  `cast('0x' || md5(to_json(list_value(${primaryKey
    .map((column) => `cast(${alias}.${column} as varchar)`)
    .join(', ')}, cast(epoch_us(${validFrom}) as varchar))))[1:15] as bigint)`;

/** The hash of the tracked columns, nulls kept apart from the text 'null'. */
const trackedHash = (tracked: readonly string[]) =>
  `md5(to_json(list_value(${tracked
    .map((column) => `cast(${quoteIdentifier(column.toLowerCase())} as varchar)`)
    .join(', ')})))`;

/**
 * The statement that builds the new history of an entity from its previous history and its
 * current silver state (one row per key, `_deleted_at` set on rows deleted at the source).
 *
 * Per key: an unchanged tracked hash keeps the current version (its untracked columns and
 * lineage brought up to date); a changed one closes it at the row's `_extracted_at` and opens a
 * version from then; a deleted row closes it at `_deleted_at` and marks it so; a key without a
 * current version (new, or back after a delete) opens one. A version this same extract opened
 * is replaced rather than closed, so a rerun never adds a zero-length version or a duplicate.
 *
 * @param options - the relations holding the current state and the previous history, the key
 *   columns (as silver names them) and the history config
 */
export const historySql = (options: {
  current: string;
  previous: string;
  primaryKey: readonly string[];
  history: HistoryConfig;
}): string => {
  const pk = options.primaryKey.map((column) => quoteIdentifier(column.toLowerCase()));
  const sk = quoteIdentifier(options.history.surrogate_key);
  const on = (a: string, b: string) =>
    pk.map((column) => `${a}.${column} = ${b}.${column}`).join(' and ');
  return `
with
m as (select *, ${trackedHash(options.history.tracked)} as _tracked_hash from ${options.current}),
h as (select * from ${options.previous}),
cur as (select * from h where is_current),
matched as (
  select c.${sk} as _sk, c.valid_from as _from, c._tracked_hash as _old_hash, m.*
  from m inner join cur as c on ${on('c', 'm')}
),
ended as (
  select c.* replace (
    coalesce(mt._deleted_at, mt._extracted_at) as valid_to,
    false as is_current,
    mt._deleted_at as _deleted_at
  )
  from cur as c inner join matched as mt on ${on('c', 'mt')}
  where (mt._deleted_at is not null or mt._tracked_hash <> c._tracked_hash)
    and c.valid_from < coalesce(mt._deleted_at, mt._extracted_at)
),
kept as (
  select mt.* exclude (_sk, _from, _old_hash),
    mt._sk as ${sk}, mt._from as valid_from, null::timestamptz as valid_to, true as is_current
  from matched as mt
  where mt._deleted_at is null and mt._tracked_hash = mt._old_hash
),
opened as (
  select m.*, ${surrogateKey(pk, 'm', 'm._extracted_at')} as ${sk},
    m._extracted_at as valid_from, null::timestamptz as valid_to, true as is_current
  from m left join matched as mt on ${on('m', 'mt')}
  where m._deleted_at is null and (mt._sk is null or mt._tracked_hash <> mt._old_hash)
),
untouched as (
  select * from h where not is_current
  union all by name
  select c.* from cur as c where not exists (select 1 from m where ${on('m', 'c')})
),
versions as (
  select * from untouched
  union all by name select * from ended
  union all by name select * from kept
  union all by name select * from opened
)
select ${sk}, * exclude (${sk}, ${HISTORY_COLUMNS.join(', ')}), ${HISTORY_COLUMNS.join(', ')}
from versions
order by ${pk.join(', ')}, valid_from`;
};

/**
 * An empty previous history shaped like the one {@link historySql} writes, for an entity's first
 * run: its columns come from the current state, so no schema is spelled out twice.
 *
 * @param engine - the engine
 * @param name - the temp table to create
 * @param current - the relation holding the current state
 * @param history - the history config
 */
export const createEmptyHistory = async (
  engine: DuckDbEngine,
  name: string,
  current: string,
  history: HistoryConfig
): Promise<void> => {
  await engine.run(
    `create or replace temp table ${name} as
     select null::bigint as ${quoteIdentifier(history.surrogate_key)}, *, null::varchar as _tracked_hash,
       null::timestamptz as valid_from, null::timestamptz as valid_to, null::boolean as is_current
     from ${current} where false`
  );
};

/**
 * Counts a written history table's versions, and what the extract at `extractedAt` did to it.
 *
 * @param engine - the engine
 * @param relation - the history as written (a `read_parquet`)
 * @param extractedAt - the run's extract time, as a timestamptz literal
 */
export const countHistory = async (
  engine: DuckDbEngine,
  relation: string,
  extractedAt: string
): Promise<HistoryCounts> => {
  const [row] = await engine.all(
    `select count(*) as versions, count(*) filter (where is_current) as current,
       count(*) filter (where valid_from = ${extractedAt}) as opened,
       count(*) filter (where _deleted_at = ${extractedAt}) as deleted
     from ${relation}`
  );
  return {
    versions: Number(row?.versions ?? 0),
    current: Number(row?.current ?? 0),
    opened: Number(row?.opened ?? 0),
    deleted: Number(row?.deleted ?? 0),
  };
};
