import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { TerminalError } from '../errors/index.js';
import { planOptionsOf } from './batchPlan.js';
import type { ChildTable } from './childTables.js';
import { DATA_ERROR, maximumObjectSize } from './constants.js';
import { distinctValues } from './distinctValues.js';
import { type DuckType, parseDuckType } from './duckType.js';
import {
  checkedColumns,
  type InferredTable,
  inferredPlan,
  nameColumns,
  selectItem,
  tableDepthWithin,
} from './inferredPlan.js';
import { valueKind } from './listTypes.js';
import { inferMapShaped, mapShapes } from './mapShapes.js';
import { withMixedKinds } from './mixedKinds.js';
import { copySilver, partitionKeys, partitionValues, typedValue } from './partitionColumns.js';
import { sampledRecords } from './sampledRecords.js';
import { clearOutputs, fileGroup } from './stageBatch.js';
import { isAddressable, quoteKey } from './structure.js';
import { maskSuspectLines, unmaskLines } from './suspectLines.js';
import type { StagedBatch, Written } from './types.js';
import { holdsWideRecords, outgrowsSampledPlan } from './wideRecords.js';
import { fileLines } from './writeSilver.js';

/** Columns from which a table is written without string dictionaries (see `writeTables`). */
const WIDE_COLUMNS = 500;

/** Lineage columns a child row carries besides its record's: its position, its ancestors'. */
export const NESTED_LINEAGE = ['_index', '_parent_index'] as const;

/** DuckDB's errors that mean the inference or the typed read cannot take the batch. */
const UNTAKEN = /^(Invalid Input|Conversion|Not implemented|Binder) Error/;

/** The type of a value kept whole, as JSON text. */
const WHOLE: DuckType = { kind: 'scalar', name: 'JSON' };

/**
 * `type` with every object that holds a key no JSON path reaches (`""`, `*`, one with a NUL)
 * read whole, as JSON, as the sampled plan keeps it (`flattenPlan`): its column's path could
 * not name that key, and no later batch could read it by that path. The rest is typed as
 * inferred: npm's `typesVersions: {"*": …}` in one package.json sent every batch holding it
 * to the sampled plan, most of its other fields past `max_depth` left as JSON.
 */
const wholeWhereUnreachable = (type: DuckType): DuckType => {
  switch (type.kind) {
    case 'scalar':
      return type;
    case 'list':
      return { ...type, element: wholeWhereUnreachable(type.element) };
    case 'map':
      // A map's own keys are data, its entries' `_key`: only its values may hold fields.
      return { ...type, value: wholeWhereUnreachable(type.value) };
    case 'mixed': {
      // Its objects are typed as a keyed object, which has no JSON form of its own: the whole
      // value is kept, whatever its kind.
      const object = type.object && wholeWhereUnreachable(type.object);
      if (object?.kind === 'scalar') return WHOLE;
      return {
        ...type,
        ...(type.array ? { array: wholeWhereUnreachable(type.array) } : {}),
      };
    }
    default: {
      if (type.fields.some(([key]) => !isAddressable(key))) return WHOLE;
      const fields = type.fields.map(
        ([key, t]) => [key, wholeWhereUnreachable(t)] as [string, DuckType]
      );
      if (type.kind === 'struct') return { kind: 'struct', fields };
      return {
        kind: 'keyed',
        fields,
        ...(type.value ? { value: wholeWhereUnreachable(type.value) } : {}),
      };
    }
  }
};

/**
 * The record type DuckDB infers over files, every record of every file seen (DuckDB samples
 * 32 files by default: the read, given the types of the first 32, dropped a key only later
 * files held and read their numbers as text); none when it cannot (a line that holds no
 * object, a key twice, keys that differ only in case).
 */
const inferRecord = async (
  engine: DuckDbEngine,
  files: string,
  longest: number
): Promise<Extract<DuckType, { kind: 'struct' }> | undefined> => {
  const rows = await engine
    .all(
      `describe select * from read_json(${files}, format = 'newline_delimited', records = true, sample_size = -1, maximum_sample_files = -1, field_appearance_threshold = 0, ${maximumObjectSize(longest)})`
    )
    .catch((error: unknown) => {
      if (UNTAKEN.test(error instanceof Error ? error.message : String(error))) return undefined;
      // Its inference holds every path of the batch at once: a map-shaped batch's may not fit,
      // and the sampled plan, which keeps maps whole, takes it instead.
      if (error instanceof TerminalError && /^out of memory/.test(error.message)) {
        return undefined;
      }
      throw error;
    });
  if (!rows) return undefined;
  return {
    kind: 'struct',
    fields: rows.map((row) => [String(row.column_name), parseDuckType(String(row.column_type))]),
  };
};

/**
 * Whether DuckDB's reader names every top-level key as it is: keys that differ only in case
 * are renamed (`id` beside `Id` becomes `id_1`), and a key named like the reader's own file
 * number, or like the columns this write adds, would be hidden.
 */
const namesHold = (record: Extract<DuckType, { kind: 'struct' }>) => {
  const lower = new Set(record.fields.map(([key]) => key.toLowerCase()));
  return record.fields.every(([key]) => {
    const renamed = /^(.*)_[0-9]+$/.exec(key.toLowerCase());
    return (
      !(renamed?.[1] !== undefined && lower.has(renamed[1])) &&
      key.toLowerCase() !== 'file_index' &&
      key.toLowerCase() !== 'ordinality' &&
      !key.toLowerCase().startsWith('__strata_')
    );
  });
};

/** Where a table's rows come from, and its columns once planned. */
interface TableSource {
  table: InferredTable;
  /** The relation its rows are read from, with the lineage columns `__strata_*`. */
  relation: string;
  /** The elements it should get (a child table), summed over its parent's rows. */
  elements?: string;
}

/**
 * The batch written from DuckDB's own inference over every record: each path's kinds are
 * known before the read, so a path of one kind is read natively typed and selected as it is,
 * and only paths of mixed kinds (and doubles, and integers past BIGINT) are split per row into
 * their column and variant columns ({@link checkedColumns}). Arrays of objects and maps of
 * non-scalars become child tables (nested ones too), arrays of scalars LIST columns, maps of
 * scalars MAP columns.
 *
 * Taken when the sample is wide ({@link holdsWideRecords}), holds what the sampled plan would
 * keep as JSON text ({@link outgrowsSampledPlan}), or the feed asks for it (`infer: always`); none when the batch needs another path: a file goes line by line or is a JSON
 * array, the reader cannot take a file (a key twice, keys that differ only in case), or a
 * top-level key no JSON path reaches (its records go to quarantine). A deeper object holding
 * such a key is kept whole as JSON, as the sampled plan keeps it.
 *
 * @param batch - the staged batch
 */
export const writeInferred = async (batch: StagedBatch): Promise<Written | undefined> => {
  const { engine, objects, options } = batch;
  const mode = options.infer ?? 'wide';
  if (mode === 'never') return undefined;
  if (objects.some((o) => o.path === 'slow' || (o.path === 'fast' && o.info.layout === 'array')))
    return undefined;
  const group = fileGroup(batch, 'newline_delimited');
  if (group.paths.length === 0) return undefined;
  // Counted over the lines staging kept, so a narrow batch pays a millisecond, not an inference.
  const sample = [...sampledRecords(objects)].map(({ record }) => record);
  if (mode === 'wide' && !holdsWideRecords(sample) && !outgrowsSampledPlan(sample))
    return undefined;
  const maps = mapShapes(sample);
  await maskSuspectLines(batch);
  const read = batch.objects.filter((o) => o.path === 'fast');
  const files = `[${read.map((o) => quoteLiteral(o.read)).join(', ')}]`;
  // DuckDB's inference holds every path at once, a map's keys' too: a batch whose sample
  // holds maps is typed in Node, its maps' values merged.
  const inferred = maps
    ? await inferMapShaped(
        read.map((o) => o.read),
        maps
      )
    : await inferRecord(engine, files, group.longestRecord ?? 0);
  // A top-level key no JSON path reaches sends its records to quarantine, from the key pass.
  if (!inferred || !namesHold(inferred) || !inferred.fields.every(([key]) => isAddressable(key))) {
    await unmaskLines(batch);
    return undefined;
  }
  // DuckDB's inference reads a path of several kinds as JSON: the structure of its objects and
  // arrays is asked of every record where the sample shows some (Node's typing knows it).
  const record = maps
    ? inferred
    : await withMixedKinds(
        engine,
        { files, longest: group.longestRecord ?? 0 },
        inferred,
        sample,
        options.depthCap
      );
  const fields = record.fields.map(([key, t]): [string, DuckType] => [
    key,
    wholeWhereUnreachable(t),
  ]);
  const planOptions = {
    feed: batch.feed,
    separator: options.separator,
    ...(options.depthCap !== undefined ? { depthCap: options.depthCap } : {}),
    explode: options.explode ?? [],
    childTables: options.childTables ?? true,
    reserved: planOptionsOf(options).reserved,
    registry: batch.registry,
  };
  const typed = { kind: 'struct' as const, fields };
  const unbounded = inferredPlan(typed, planOptions);
  const tableDepth = tableDepthWithin(unbounded.table);
  const plan =
    tableDepth === undefined ? unbounded : inferredPlan(typed, { ...planOptions, tableDepth });
  try {
    return await writeTables(batch, plan, files, read, maps !== undefined);
  } catch (error) {
    if (error instanceof TerminalError && /^out of memory/.test(error.message)) {
      // Out of memory before a table's write (its side read, its kinds, a map's entries): the
      // engine names the limit, and what needed it is known here.
      const tables = countTables(plan.table);
      throw new TerminalError(
        `flatten-batch ${batch.batchId}: reading ${batch.feed}'s records for its ${tables.columns} planned columns in ${tables.count} table(s)${maps ? ', its maps typed in Node' : ''}: ${error.message}; cap the columns with the feed's max_depth, or give FlattenBatch more memory`
      );
    }
    // A key twice in one object, a value the inference did not see…: the other paths tell.
    if (!DATA_ERROR.test(error instanceof Error ? error.message : String(error))) throw error;
  }
  await engine.run('drop table if exists batch_side; drop table if exists batch_split');
  await unmaskLines(batch);
  await clearOutputs(batch, []);
  return undefined;
};

/** The tables of a plan, and the paths they plan columns for. */
const countTables = (table: InferredTable): { count: number; columns: number } =>
  table.children.reduce(
    (sum, { table: child }) => {
      const inner = countTables(child);
      return { count: sum.count + inner.count, columns: sum.columns + inner.columns };
    },
    { count: 1, columns: table.native.length + table.sided.length + table.checked.length }
  );

/** `relation` with each STRUCT its select reads taken apart first, level by level. */
const withStages = (relation: string, stages: InferredTable['stages']) => {
  const levels = Math.max(0, ...stages.map((stage) => stage.level));
  let staged = relation;
  for (let level = 1; level <= levels; level++) {
    const items = stages
      .filter((stage) => stage.level === level)
      .map((stage) => `${stage.expression} as ${quoteKey(stage.alias)}`);
    staged = `(select *, ${items.join(', ')} from ${staged})`;
  }
  return staged;
};

const writeTables = async (
  batch: StagedBatch,
  plan: ReturnType<typeof inferredPlan>,
  files: string,
  read: StagedBatch['objects'],
  materialise: boolean
): Promise<Written> => {
  const { engine, options } = batch;
  const { keys, line, masked } = fileLines(read, '__strata_file', '__strata_row');
  const hiveKeys = partitionKeys(options.partition);
  const readTypes = (types: Record<string, string>) =>
    Object.fromEntries(Object.entries(types).map(([key, type]) => [key, parseDuckType(type)]));
  const longest = Math.max(0, ...read.map((o) => o.info.longestLine));
  const lineageColumns = [
    '__strata_key',
    '__strata_line',
    ...hiveKeys.map((key) => `__strata_${key}`),
  ].join(', ');
  /** The records read with these columns, and each one's file, line and partition. */
  const records = (types: Record<string, string>) => {
    const columns = `{${Object.entries(types)
      .map(([key, type]) => `${quoteLiteral(key)}: ${quoteLiteral(type)}`)
      .join(', ')}}`;
    return `(select * exclude (__strata_row, __strata_file, ordinality), ${keys}[__strata_file] as __strata_key,
        ${[`${line} as __strata_line`, ...partitionValues(options.partition, typedValue(readTypes(types)), '__strata_')].join(', ')}
      from (
        select *, (file_index + 1)::bigint as __strata_file, ordinality as __strata_row
        from read_json(${files}, format = 'newline_delimited', records = true, columns = ${columns}, ${maximumObjectSize(longest)}) with ordinality
      ) ${masked})`;
  };
  // What the kinds of the feed's mixed paths and its child tables need, read once and kept
  // (a few hundred of the thousands of columns), so that the feed's own read streams.
  const readColumns = Object.keys(plan.read).length > 0 ? plan.read : { __strata_none: 'VARCHAR' };
  const side: Record<string, string> = Object.assign(Object.create(null), plan.side);
  // A partition path's top-level field, whatever it holds, is read there too.
  for (const path of [options.partition.date, options.partition.mode]) {
    const field = path?.split('.')[0] ?? '';
    if (Object.hasOwn(plan.read, field)) side[field] = plan.read[field] as string;
  }
  // A read needs a column: records with no key at all are read by a name none of them has.
  if (Object.keys(side).length === 0) side.__strata_none = 'VARCHAR';
  // Objects read from JSON text and maps' entries are prepared here, once per row.
  await engine.run(
    `create or replace temp table batch_side as select ${lineageColumns}${[
      ...Object.keys(plan.side),
      ...plan.table.prepared.map((stage) => stage.alias),
    ]
      .map((key) => `, ${quoteKey(key)}`)
      .join('')} from ${withStages(records(side), plan.table.prepared)}`
  );
  // The partitions the batch's rows fall in: DuckDB's partitioned write buffers each one's rows
  // column by column, so a wide table's memory grows with them (docs/wide-json.md).
  // Rows all in one partition are written to its folder without a partitioned write (copySilver).
  const [first] = hiveKeys.length
    ? await engine.all(
        `select count(*) over () as __strata_partitions, * from (select distinct ${hiveKeys.map((key) => `__strata_${key} as ${key}`).join(', ')} from batch_side) limit 1`
      )
    : [];
  const partitions = Number(first?.__strata_partitions ?? 1);
  const partition =
    first && partitions === 1
      ? Object.fromEntries(hiveKeys.map((key) => [key, String(first[key])]))
      : undefined;
  const written: Written = { columns: [], children: [] };
  const sources: TableSource[] = [{ table: plan.table, relation: 'batch_side' }];
  const kept: string[] = [];
  try {
    for (let i = 0; i < sources.length; i++) {
      const { table, elements } = sources[i] as TableSource;
      const child = table.path !== '$';
      // A child's prepared columns are computed over its elements (the feed's are in batch_side).
      let relation = child
        ? withStages((sources[i] as TableSource).relation, table.prepared)
        : (sources[i] as TableSource).relation;
      if (child && materialise) {
        // Maps typed in Node nest deep, each level read from JSON text: a child table's rows are
        // kept, once, for its own reads and its children's, instead of each query reading them
        // again from the top.
        await engine.run(
          `create or replace temp table batch_child_${i} as select * from ${relation}`
        );
        relation = `batch_child_${i}`;
        kept.push(relation);
      }
      const kinds = await distinctValues(
        engine,
        relation,
        table.checked.map((leaf) =>
          leaf.noLists ? `json_type(${leaf.chain})` : valueKind(leaf.chain)
        )
      );
      const misfits: string[] = [];
      const planned = [...table.native, ...table.sided];
      for (const [n, leaf] of table.checked.entries()) {
        const split = checkedColumns(leaf, kinds[n] ?? []);
        planned.push(...split.columns);
        misfits.push(...split.misfits);
      }
      const named = nameColumns(
        planned,
        child ? [] : batch.registry,
        [...planOptionsOf(options).reserved, ...(child ? NESTED_LINEAGE : [])],
        options.separator
      );
      // An empty array or map has no rows in its child table: `_variant` keeps it apart from a
      // missing one, under its path, as an empty object flattened into columns is kept.
      for (const { list, at, empty, beside = [] } of table.children) {
        if (!empty) continue;
        const bare = beside.map((field) => ` and ${field} is null`).join('');
        misfits.push(
          `case when len(${list}) = 0${bare} then json_object(${quoteLiteral(at)}, ${quoteLiteral(empty)}::json) end`
        );
      }
      for (const { value, at, fields } of table.objects) {
        misfits.push(
          `case when ${value} is not null and ${fields.map((f) => `${f} is null`).join(' and ')} then json_object(${quoteLiteral(at)}, '{}'::json) end`
        );
      }
      const variant = misfits.length
        ? `nullif(to_json(list_filter([${misfits.join(', ')}], x -> x is not null)), '[]')::json`
        : 'null::json';
      const nested = child
        ? `, __strata_index as _index${table.depth > 0 ? ', __strata_parent as _parent_index' : ''}`
        : '';
      const own = named.slice(0, table.native.length);
      const split = named.slice(table.native.length);
      let items = [...named.map(selectItem), `${variant} as _variant`];
      let from = child ? relation : withStages(records(readColumns), table.stages);
      let line = '__strata_line';
      if (!child && (split.length > 0 || misfits.length > 0)) {
        // The feed's mixed paths are split (their objects' and arrays' columns selected) from
        // the side read, a narrow table, and joined to the streamed read by position (both
        // read the same lines in the same order, which each row's file and line check): over
        // the read's thousands of columns, those few expressions would cost DuckDB gigabytes
        // of vectors.
        const splits = [...split.map(({ expression }) => expression), variant];
        await engine.run(
          `create or replace temp table batch_split as select __strata_key as __strata_k, __strata_line as __strata_l, ${splits.map((expression, n) => `${expression} as __strata_c${n}`).join(', ')} from batch_side`
        );
        items = [
          ...own.map(selectItem),
          ...[...split.map(({ column }) => column.name), '_variant'].map(
            (name, n) => `__strata_c${n} as ${quoteIdentifier(name)}`
          ),
        ];
        from = `${withStages(records(plan.read), table.stages)} positional join batch_split`;
        line = `(case when __strata_key = __strata_k and __strata_line = __strata_l then __strata_line else error('flatten-batch: the side read is out of step with the records') end)`;
      }
      const select = `select ${items.join(', ')},
          __strata_key as _source_key, ${line} as _source_line${nested}, ${quoteLiteral(batch.batchId)} as _batch_id${hiveKeys.map((key) => `, __strata_${key} as ${key}`).join('')}
        from ${from}`;
      const dir = child ? `${batch.out}-${i - 1}` : batch.out;
      // DuckDB sets a dictionary's buffer aside for each text column it writes (~0.4 MB), 1.3 GB
      // of its memory for the webhooks' 3,000 columns: a wide table's text is compressed by
      // ZSTD alone.
      const dictionaries =
        named.length >= WIDE_COLUMNS
          ? ', dictionary_size_limit 1, string_dictionary_page_size_limit 1'
          : '';
      await copySilver(engine, select, {
        dir,
        batchId: batch.batchId,
        keys: hiveKeys,
        ...(partition ? { partition } : {}),
        options: dictionaries,
      }).catch((error: unknown) => {
        if (!(error instanceof TerminalError && /^out of memory/.test(error.message))) throw error;
        // The engine names the limit; what needed it, and what to do, are known here.
        throw new TerminalError(
          `flatten-batch ${batch.batchId}: writing ${table.dataset}'s ${named.length} columns${partitions > 1 ? ` into ${partitions} partitions` : ''}: ${error.message}; cap the columns with the feed's max_depth${partitions > 1 ? ', partition the feed by fewer values (a date alone, or none)' : ''}, or give FlattenBatch more memory`
        );
      });
      const flat = named.map(({ column }) => column);
      if (child) {
        const asChild: ChildTable = {
          dataset: table.dataset,
          path: table.path,
          wrap: table.wrap,
          columns: flat,
        };
        written.children.push({
          table: asChild,
          elements: await engine.scalarNumber(elements ?? '0'),
        });
      } else written.columns = flat;
      for (const { table: inner, list } of table.children) {
        const parents = child ? 'list_append(__strata_parent, __strata_index)' : '[]::bigint[]';
        sources.push({
          table: inner,
          relation: `(select ${lineageColumns}, ${parents} as __strata_parent, unnest(${list}) as __strata_e,
              unnest(range(1, len(${list}) + 1)) as __strata_index
            from ${relation} where len(${list}) > 0)`,
          elements: `select coalesce(sum(len(${list})), 0) from ${relation}`,
        });
      }
    }
  } finally {
    // Kept child rows go whether the write took the batch or another path will.
    await engine.run(kept.map((name) => `drop table if exists ${name}`).join('; ') || 'select 1');
  }
  await engine.run('drop table batch_side; drop table if exists batch_split');
  return written;
};
