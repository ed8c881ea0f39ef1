import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { childDataset } from './childTables.js';
import type { DuckType } from './duckType.js';
import {
  type FlatColumn,
  groupsTaken,
  keptAsJson,
  kindColumn,
  normalise,
  type ScalarType,
  safeColumnName,
  type VariantKind,
} from './flattenPlan.js';
import { groupType, kindGroups, orderGroups } from './kindGroups.js';
import { listType } from './listTypes.js';
import { jsonPath, quoteKey } from './structure.js';

/*
 * The plan of a batch whose kinds DuckDB inferred over every record (`writeInferred`): which
 * type the reader declares at each path, and which columns and child tables the rows flatten
 * into. A path whose values all have one kind is read natively and selected by plain field
 * access; only the paths read as JSON (kinds that mix, doubles, integers past BIGINT, a
 * registry that disagrees) get an expression per row.
 */

/** Scalars the reader types natively and losslessly when every value has that kind. */
const NATIVE = new Set(['BIGINT', 'BOOLEAN', 'VARCHAR']);
/** Strings DuckDB's inference types as dates, times or UUIDs: read as the text they are. */
const TEXT_LIKE = /^(TIMESTAMP|DATE|TIME|UUID|INTERVAL)/;

/** A path read as JSON, whose kinds a query over the batch tells before its columns exist. */
export interface CheckedLeaf {
  /** The value in SQL (a JSON), as a chain of field accesses from the row's columns. */
  chain: string;
  path: string;
  name: string;
  /** The registered column at this path: its name and type are kept. */
  registered?: FlatColumn;
  /**
   * The type its own column takes whatever kinds the batch holds there, when not registered:
   * the LIST type of a path of several kinds whose arrays are lists of one scalar kind, or of
   * a path of DOUBLE lists (read as JSON: DuckDB's reader would round an integer past 2^53).
   */
  own?: FlatColumn['type'];
  /** The registry keeps the path's values as JSON: its lists get no LIST columns. */
  listsAsJson?: boolean;
  /**
   * Its values hold no list of scalars (its inferred type says so): `json_type` tells their
   * kinds, and no `json_structure` is asked of an array of objects, as large as the array.
   */
  noLists?: boolean;
}

/**
 * A STRUCT given a column of its own before the table's select: DuckDB allocates a function's
 * argument vectors once per expression, so every access to a field of a wide STRUCT costs the
 * whole STRUCT's vectors, while a field of a narrower column costs that column's.
 */
export interface Stage {
  alias: string;
  expression: string;
  /** Stages of level n read those of level n - 1. */
  level: number;
}

/** A table of the batch: the feed's records, or the elements of an array (or a map's entries). */
export interface InferredTable {
  dataset: string;
  /** The array's JSON path (`$."commits"[*]."files"`); `$` for the feed's own table. */
  path: string;
  /** Array positions above this table's own (`_parent_index`): 0 for the feed and its children. */
  depth: number;
  /** Elements are not objects: each is one column `value`. */
  wrap: boolean;
  /** Columns selected natively (plain field access), with their SQL. */
  native: { column: FlatColumn; expression: string }[];
  /**
   * Columns of the feed's table selected from the side read, as a child table's are from its
   * rows: the fields and lists of its paths of several kinds, which its streamed read holds as
   * JSON text (none in a child table).
   */
  sided: { column: FlatColumn; expression: string }[];
  /** Paths read as JSON, planned once their kinds are known ({@link checkedColumns}). */
  checked: CheckedLeaf[];
  /** The STRUCTs its select reads from columns of their own (the feed's table only). */
  stages: Stage[];
  /**
   * What its chains read from columns of their own, computed once per row: an object read
   * from JSON text and a map's entries (`json_transform`). They read the side read's columns
   * for the feed's table, the elements for a child table.
   */
  prepared: Stage[];
  /**
   * The objects a child table's rows flatten into columns (an element itself, `$`, too), each
   * with its fields' SQL: one holding none of them (`{}`) is kept in `_variant` under its path,
   * apart from a null one. The feed's own objects are not checked: their fields are not in the
   * side read, and checking them there would cost a CASE per object per row.
   */
  objects: { value: string; at: string; fields: string[] }[];
  /**
   * The arrays (and map entries) inside its rows that are tables of their own, as a chain of
   * field accesses from the row's columns.
   */
  children: {
    table: InferredTable;
    list: string;
    /** Where it is in the table's row: an empty one is kept in `_variant` under this path. */
    at: string;
    /**
     * What an empty one is: `[]`, or `{}` for a map's entries; none where it is not told apart
     * (entries beside fields in the feed's own table, whose objects are not checked).
     */
    empty?: '[]' | '{}';
    /** Fields beside a map's entries: only with all of them null is an object without entries `{}`. */
    beside?: string[];
  }[];
}
export interface InferredPlanOptions {
  feed: string;
  separator: string;
  /** Objects, arrays and maps this deep stay one JSON column (`max_depth`, when configured). */
  depthCap?: number;
  /**
   * Child tables are made this deep at most (their `depth`; -1: none): arrays of objects and
   * maps of objects below stay JSON text ({@link tableDepthWithin}).
   */
  tableDepth?: number;
  /** Arrays written as child tables even when their elements are not objects. */
  explode: readonly (readonly string[])[];
  /** `false`: arrays of objects not exploded stay JSON (the feed's `child_tables`). */
  childTables: boolean;
  /** Names partitions and lineage take. */
  reserved: readonly string[];
  /** The feed's registered columns (its own table only). */
  registry: readonly FlatColumn[];
}

/** The registered column at a path (not a variant one). */
const registeredAt = (registry: readonly FlatColumn[], path: string) =>
  registry.find((column) => column.path === path && !column.variant);

/** The scalar type a value of this type is read natively as (a date or time as its text). */
const nativeScalar = (type: DuckType): ScalarType | undefined => {
  if (type.kind !== 'scalar') return undefined;
  const name = TEXT_LIKE.test(type.name) ? 'VARCHAR' : type.name;
  return NATIVE.has(name) ? (name as ScalarType) : undefined;
};

/**
 * The LIST type values of a list type are written as: its innermost scalar at its depth, read
 * natively (`native`) when the reader types it losslessly, or a DOUBLE list read as JSON and
 * checked; none for lists of objects, maps or mixed kinds (`JSON[][]`: several depths).
 */
const listOf = (type: DuckType): { type: FlatColumn['type']; native: boolean } | undefined => {
  let depth = 0;
  let inner = type;
  for (; inner.kind === 'list'; depth++) inner = inner.element;
  if (depth === 0) return undefined;
  const native = nativeScalar(inner);
  if (native) return { type: listType({ element: native, depth }), native: true };
  return inner.kind === 'scalar' && inner.name === 'DOUBLE'
    ? { type: listType({ element: 'DOUBLE', depth }), native: false }
    : undefined;
};

/** Whether values of this type may be lists of scalars (`JSON` may be anything). */
const mayListScalars = (type: DuckType): boolean =>
  type.kind === 'scalar'
    ? type.name === 'JSON'
    : type.kind === 'list'
      ? type.element.kind === 'scalar' || mayListScalars(type.element)
      : type.kind === 'mixed' && type.array !== undefined;

/** Whether values of this type are objects with fields (a table's rows, when in an array). */
const isObjectType = (type: DuckType) =>
  (type.kind === 'struct' && type.fields.length > 0) || type.kind === 'keyed';

/**
 * Whether an array's elements make a child table's rows: objects, or values of several kinds
 * objects among them (npm's `contributors`: a name, or `{name, email}`), each typed as a mixed
 * value in its row (`value`, `value_<field>`…).
 */
const holdsObjects = (element: DuckType) =>
  isObjectType(element) || (element.kind === 'mixed' && element.object !== undefined);

/**
 * The read types and tables of records DuckDB inferred as `record` (a STRUCT of the top-level
 * fields).
 *
 * @param record - the inferred record type
 * @param options - the feed, naming, depth cap, explode overrides and registry
 * @returns the `columns` for `read_json`, those of the side read (what the kinds of the feed's
 *   mixed paths and its child tables need), and the feed's table, its children within
 */
export const inferredPlan = (
  record: Extract<DuckType, { kind: 'struct' }>,
  options: InferredPlanOptions
): { read: Record<string, string>; side: Record<string, string>; table: InferredTable } => {
  const datasets = new Set<string>([options.feed]);
  const exploded = new Set(options.explode.map((keys) => jsonPath(keys)));
  const newTable = (dataset: string, path: string, depth: number, wrap: boolean) => ({
    dataset,
    path,
    depth,
    wrap,
    native: [],
    sided: [],
    checked: [],
    stages: [],
    prepared: [],
    objects: [],
    children: [],
  });

  /** The `depth` of a child table of `table`: the feed's children are 0, as the feed is. */
  const childDepth = (table: InferredTable) => table.depth + (table.path === '$' ? 0 : 1);
  /** Whether a child table of this depth may be made (within `tableDepth`). */
  const within = (depth: number) => options.tableDepth === undefined || depth <= options.tableDepth;

  // The type a `json_transform` reads an object as is known once the walk below it has
  // planned its fields: its SQL holds a token until then, replaced when the plan is done. A
  // token holds a NUL, which no key a column is planned from holds (`isAddressable`).
  const types: string[] = [];
  const hold = () => `\u0000type${types.push('') - 1}\u0000`;
  const settle = (token: string, type: string) => {
    types[Number(token.slice(5, -1))] = quoteLiteral(JSON.stringify(type));
  };

  /** Where a value is in SQL: a chain of field accesses, and the select's (staged) access. */
  interface At {
    chain: string;
    staged: string;
    /** Stages above it. */
    level: number;
    /** Prepared columns above its chain. */
    prep: number;
    /**
     * In the feed's table, a value only the side read holds typed (below a path of several
     * kinds): its columns are selected from its chain, as a child table's are.
     */
    side?: boolean;
  }
  /** Whether a value of the table is selected from the feed's streamed read. */
  const streamed = (table: InferredTable, at: At) => table.path === '$' && !at.side;
  const field = (at: At, key: string): At => {
    const access = (from: string) => `struct_extract(${from}, ${quoteLiteral(key)})`;
    return { ...at, chain: access(at.chain), staged: access(at.staged) };
  };
  /** A STRUCT's own column (in the feed's table), from which its fields are references. */
  const staged = (table: InferredTable, at: At): At => {
    if (!streamed(table, at) || !at.staged.startsWith('struct_extract(')) return at;
    const alias = `__strata_s${table.stages.length}`;
    table.stages.push({ alias, expression: at.staged, level: at.level + 1 });
    return { chain: at.chain, staged: quoteKey(alias), level: at.level + 1, prep: at.prep };
  };
  /** An expression over a chain as a prepared column of the table: its alias and level. */
  const prepare = (table: InferredTable, expression: string, at: At) => {
    const alias = `__strata_p${table.prepared.length}`;
    const stage = { alias, expression, level: at.prep + 1 };
    table.prepared.push(stage);
    return { stage, sql: quoteKey(alias) };
  };

  /**
   * Plans the value of `type` at `keys` (relative to the table's row) into `table`, and
   * returns the type the reader declares for it and, where the feed's kinds query or its child
   * tables need it, the type the side read declares (none: nothing below it is needed there).
   *
   * @param absolute - the keys from the record's top, array steps as `[*]`, for JSON paths
   */
  const walk = (
    table: InferredTable,
    type: DuckType,
    keys: string[],
    absolute: string[],
    at: At,
    registry: readonly FlatColumn[]
  ): { read: string; side?: string } => {
    const path = jsonPath(keys);
    const name = keys.map(normalise).join(options.separator);
    const registered = registeredAt(registry, path);
    const capped = options.depthCap !== undefined && absolute.length >= options.depthCap;
    const depth = childDepth(table);
    const nests = within(depth);
    const lists = {
      ...(keptAsJson(registry, path) ? { listsAsJson: true } : {}),
      ...(mayListScalars(type) ? {} : { noLists: true }),
    };
    const asJson = (own?: FlatColumn['type']) => {
      table.checked.push({
        chain: at.chain,
        path,
        name,
        ...(registered ? { registered } : {}),
        ...(own ? { own } : {}),
        ...lists,
      });
      return { read: 'JSON', side: 'JSON' };
    };
    const nativeColumn = (columnType: FlatColumn['type'], read: string) => {
      if (registered && registered.type !== columnType) return asJson();
      (table.path === '$' && at.side ? table.sided : table.native).push({
        column: { name, path, type: columnType },
        expression: at.staged,
      });
      return { read };
    };
    if (type.kind === 'scalar') {
      if (NATIVE.has(type.name)) return nativeColumn(type.name as ScalarType, type.name);
      if (TEXT_LIKE.test(type.name)) return nativeColumn('VARCHAR', 'VARCHAR');
      return asJson();
    }
    if (capped) return asJson();
    if (type.kind === 'struct') {
      // An object with no fields (always `{}`) is kept whole.
      if (type.fields.length === 0) return asJson();
      const own = staged(table, at);
      if (!streamed(table, at)) {
        table.objects.push({
          value: at.chain,
          at: path,
          fields: type.fields.map(([key]) => field(own, key).chain),
        });
      }
      const fields = type.fields.map(([key, child]) => ({
        key,
        ...walk(table, child, [...keys, key], [...absolute, key], field(own, key), registry),
      }));
      const side = fields.filter((f) => f.side !== undefined);
      return {
        read: `STRUCT(${fields.map((f) => `${quoteKey(f.key)} ${f.read}`).join(', ')})`,
        ...(side.length > 0
          ? { side: `STRUCT(${side.map((f) => `${quoteKey(f.key)} ${f.side}`).join(', ')})` }
          : {}),
      };
    }
    if (type.kind === 'mixed') {
      // A path whose objects the registry keeps as JSON text stays so: a column's values do
      // not move to other columns under its readers.
      if (table.path === '$' && keptAsJson(registry, path)) return asJson();
      // Each kind is typed as it would be alone: objects flatten into columns, arrays of
      // objects are child tables. The other kinds are split into columns per kind, arrays of
      // one scalar kind into a LIST column that is the path's own (`<name>`, its scalars in
      // `<name>__v_<kind>`), so no two of its columns share a path and a name. In the feed's
      // table they are all selected from the side read, which holds the path as JSON.
      const kind = `json_type(${at.chain})`;
      const only = (of: string) => `(case when ${kind} = '${of}' then ${at.chain} end)`;
      const element = type.array?.kind === 'list' ? type.array.element : undefined;
      const tabled =
        type.array !== undefined &&
        nests &&
        (exploded.has(jsonPath(absolute)) ||
          (element !== undefined && holdsObjects(element) && options.childTables));
      const listed = !tabled && type.array && listOf(type.array)?.type;
      // An object only ever `{}` has no field to type: it stays with the other kinds.
      const object = type.object?.fields.length || type.object?.value ? type.object : undefined;
      const apart = [...(object ? ['OBJECT'] : []), ...(tabled ? ['ARRAY'] : [])];
      if (type.scalars || (type.array && !tabled) || (type.object && !object)) {
        table.checked.push({
          chain: apart.length
            ? `(case when ${kind} not in (${apart.map(quoteLiteral).join(', ')}) then ${at.chain} end)`
            : at.chain,
          path,
          name,
          ...(registered ? { registered } : {}),
          ...(listed ? { own: listed } : {}),
          ...lists,
          ...(tabled ? { noLists: true } : {}),
        });
      }
      const side = table.path === '$';
      if (object) {
        const objectAt = { ...at, chain: only('OBJECT'), staged: only('OBJECT'), side };
        walk(table, object, keys, absolute, objectAt, registry);
      }
      if (tabled && type.array) {
        const listType = hold();
        const list = prepare(table, `json_transform(${only('ARRAY')}, ${listType})`, at);
        const array = { chain: list.sql, staged: list.sql, level: 0, prep: list.stage.level, side };
        // The path's own column, registered or not, holds its scalars: its arrays are a table.
        const beside = registry.filter((column) => column.path !== path);
        settle(listType, walk(table, type.array, keys, absolute, array, beside).read);
      }
      return { read: 'JSON', side: 'JSON' };
    }
    if (type.kind === 'keyed') {
      return nests || !type.value ? keyed(table, type, keys, absolute, at, registry) : asJson();
    }
    const element = type.kind === 'list' ? type.element : type.value;
    const elementType = nativeScalar(element);
    const explode = exploded.has(jsonPath(absolute));
    if (type.kind === 'map' && elementType && !explode) {
      return nativeColumn(`MAP(VARCHAR, ${elementType})`, `MAP(VARCHAR, ${elementType})`);
    }
    const list = type.kind === 'list' && !explode ? listOf(type) : undefined;
    if (list?.native) return nativeColumn(list.type, list.type);
    if (list) return asJson(list.type);
    // Arrays of objects (and of anything when configured), and maps of non-scalars: a child
    // table, one row per element or entry.
    // An element that is a map-shaped object whose entries may not be a table of their own is
    // its row's one `value`, kept whole.
    const objects =
      isObjectType(element) && !(element.kind === 'keyed' && element.value && !within(depth + 1));
    if (type.kind === 'list' && !(holdsObjects(element) && options.childTables) && !explode)
      return asJson();
    if (registered || !nests) return asJson();
    if (type.kind === 'map') {
      const read = `MAP(VARCHAR, ${entries(table, keys, absolute, element, { list: `map_entries(${at.chain})` })})`;
      return { read, side: read };
    }
    const childPath = `${jsonPath(absolute)}[*]`;
    const child: InferredTable = newTable(
      childDataset(table.dataset, keys, childPath, datasets),
      childPath,
      depth,
      !objects
    );
    table.children.push({ table: child, list: at.chain, at: path, empty: '[]' });
    const row = { chain: '__strata_e', staged: '__strata_e', level: 0, prep: 0 };
    const read = `${walk(child, element, objects ? [] : ['value'], [...absolute, '[*]'], row, []).read}[]`;
    return { read, side: read };
  };

  /**
   * A child table of a map's entries, one row per entry: its key the `_key` column, its value
   * `value` (or `value_<field>`…). Returns the type the value is read as.
   */
  const entries = (
    table: InferredTable,
    keys: string[],
    absolute: string[],
    value: DuckType,
    where: { list: string; beside?: string[]; told?: boolean }
  ): string => {
    const childPath = `${jsonPath(absolute)}[*]`;
    const child: InferredTable = newTable(
      childDataset(table.dataset, keys, childPath, datasets),
      childPath,
      childDepth(table),
      false
    );
    table.children.push({
      table: child,
      list: where.list,
      at: jsonPath(keys),
      ...(where.told === false ? {} : { empty: '{}' as const }),
      ...(where.beside?.length ? { beside: where.beside } : {}),
    });
    const inner = [...absolute, '[*]'];
    const row = (expression: string): At => ({
      chain: expression,
      staged: expression,
      level: 0,
      prep: 0,
    });
    const key = row("struct_extract(__strata_e, 'key')");
    walk(child, { kind: 'scalar', name: 'VARCHAR' }, ['_key'], [...inner, '_key'], key, []);
    const at = row("struct_extract(__strata_e, 'value')");
    const read = walk(child, value, ['value'], [...inner, 'value'], at, []).read;
    // No normalised name opens with `_`: the key's column cannot meet a value's.
    const named = child.native[0];
    if (named) named.column.name = '_key';
    return read;
  };

  /**
   * An object whose keys are data, read from JSON text: its fields (`json_transform` to their
   * STRUCT, which passes over the other keys) flatten as a STRUCT's do, and its other keys are
   * a child table's entries. In the feed's own table the fields are read natively (the
   * reader's STRUCT of them), and the side read holds the object as JSON.
   */
  const keyed = (
    table: InferredTable,
    type: Extract<DuckType, { kind: 'keyed' }>,
    keys: string[],
    absolute: string[],
    at: At,
    registry: readonly FlatColumn[]
  ): { read: string; side: string } => {
    const structType = hold();
    const struct = prepare(table, `json_transform(${at.chain}, ${structType})`, at);
    const own = type.fields.length > 0 ? staged(table, at) : at;
    const fromStream = streamed(table, at);
    const fieldAt = (key: string): At => {
      const chain = `struct_extract(${struct.sql}, ${quoteLiteral(key)})`;
      const prep = struct.stage.level;
      return fromStream
        ? { chain, staged: field(own, key).staged, level: own.level, prep }
        : { ...at, chain, staged: chain, level: 0, prep };
    };
    const fields = type.fields.map(([key, child]) => ({
      key,
      chain: fieldAt(key).chain,
      ...walk(table, child, [...keys, key], [...absolute, key], fieldAt(key), registry),
    }));
    const struct_ = (of: readonly { key: string; type?: string | undefined }[]) =>
      `STRUCT(${of.map((f) => `${quoteKey(f.key)} ${f.type}`).join(', ')})`;
    const read = struct_(fields.map((f) => ({ key: f.key, type: f.read })));
    // The feed's side chains read what the side read would hold; a child's, every field.
    const chained = fromStream
      ? fields.filter((f) => f.side !== undefined).map((f) => ({ key: f.key, type: f.side }))
      : fields.map((f) => ({ key: f.key, type: f.read }));
    if (chained.length > 0) settle(structType, struct_(chained));
    else table.prepared.splice(table.prepared.indexOf(struct.stage), 1);
    if (!type.value) {
      if (!fromStream)
        table.objects.push({
          value: at.chain,
          at: jsonPath(keys),
          fields: fields.map((f) => f.chain),
        });
      return { read: 'JSON', side: 'JSON' };
    }
    const mapType = hold();
    const all = `map_entries(json_transform(${at.chain}, ${mapType}))`;
    const list = prepare(
      table,
      fields.length
        ? `list_filter(${all}, __strata_x -> __strata_x.key not in (${fields.map((f) => quoteLiteral(f.key)).join(', ')}))`
        : all,
      at
    );
    const value = entries(table, keys, absolute, type.value, {
      list: list.sql,
      told: !fromStream || fields.length === 0,
      beside: fromStream ? [] : fields.map((f) => f.chain),
    });
    settle(mapType, `MAP(VARCHAR, ${value})`);
    // Only the feed's own read takes the fields alone: the side read, a list's elements and a
    // map's values hold the object as JSON, its entries with it.
    return { read: fromStream && fields.length > 0 ? read : 'JSON', side: 'JSON' };
  };

  const table: InferredTable = newTable(options.feed, '$', 0, false);
  // Keys are data: `__proto__` is a field like any other.
  const read: Record<string, string> = Object.create(null);
  const side: Record<string, string> = Object.create(null);
  for (const [key, type] of record.fields) {
    const at = { chain: quoteKey(key), staged: quoteKey(key), level: 0, prep: 0 };
    const planned = walk(table, type, [key], [key], at, options.registry);
    read[key] = planned.read;
    if (planned.side) side[key] = planned.side;
  }
  const settled = JSON.parse(
    JSON.stringify(table).replace(/\\u0000type(\d+)\\u0000/g, (_, n: string) =>
      JSON.stringify(types[Number(n)]).slice(1, -1)
    )
  ) as InferredTable;
  return { read, side, table: settled };
};

/**
 * Child tables a batch makes at most: each is a dataset of its own, with a line in FlattenBatch's
 * and Reconcile's results (Step Functions fails a state over 256 KiB; at 150 of the longest
 * names both stay under the 64 KiB the state-size test holds them to) and a schema, folder and
 * catalog table. Recursive records nest arrays of objects without end: 593 JavaScript syntax
 * trees (acorn and esprima parsed by acorn, depth 30) planned 1,367 tables and overflowed the
 * result. Real feeds plan fewer: GitHub's webhooks 41, AWS's API models 82, MDN's
 * browser-compat data 108, GitHub's OpenAPI 117.
 */
export const MAX_CHILD_TABLES = 150;

/**
 * The deepest child tables may be made so a plan makes at most {@link MAX_CHILD_TABLES} of them
 * (shallow ones first: a tree's top levels are its tables, its deeper arrays JSON text); none
 * when it makes no more than that.
 *
 * @param table - the feed's table, as planned with no `tableDepth`
 */
export const tableDepthWithin = (table: InferredTable): number | undefined => {
  const depths: number[] = [];
  const collect = (at: InferredTable) => {
    for (const { table: child } of at.children) {
      depths.push(child.depth);
      collect(child);
    }
  };
  collect(table);
  if (depths.length <= MAX_CHILD_TABLES) return undefined;
  depths.sort((a, b) => a - b);
  // The deepest level whose tables, with every shallower one, are within the bound.
  const last = depths[MAX_CHILD_TABLES] as number;
  return last - 1;
};

/**
 * The columns a path read as JSON becomes once the kinds of its values are known: its own
 * column, of its registered type or else the first of text, double, integer, boolean, JSON
 * present (so an ISO time that is an epoch number elsewhere stays text, the numbers beside it),
 * and a variant column `<name>__v_<kind>` for each other kind (dlt's names). A value that fits
 * neither (an integer past BIGINT, one past 2^53 among doubles, `1e400`) is kept in `_variant`
 * as written.
 *
 * @param leaf - the path
 * @param kinds - the `json_type`s its values took in this batch
 * @returns the columns with their SQL, and `_variant`'s entries for misfits
 */
export const checkedColumns = (
  leaf: CheckedLeaf,
  kinds: readonly string[]
): { columns: { column: FlatColumn; expression: string }[]; misfits: string[] } => {
  const { group, types } = kindGroups(kinds, !leaf.listsAsJson);
  // In this order whatever order the batch saw them in, so the columns are too.
  const groups = orderGroups(kinds.map((kind) => group.get(kind) as VariantKind));
  const base: FlatColumn['type'] =
    leaf.registered?.type ?? leaf.own ?? groupType(groups[0] ?? 'text', types);
  const own = leaf.registered ?? { name: leaf.name, path: leaf.path, type: base };
  const takes = groupsTaken(own);
  const path = [
    own,
    ...groups
      .filter((g) => !takes.includes(g))
      .map(
        (g): FlatColumn => ({
          name: `${own.name}__v_${g}`,
          path: leaf.path,
          type: groupType(g, types),
          variant: g,
        })
      ),
  ];
  const columns: { column: FlatColumn; expression: string }[] = [];
  const misfits: string[] = [];
  for (const column of path) {
    const { expression, misfit } = kindColumn(column, leaf.chain, path);
    columns.push({ column, expression });
    if (misfit) misfits.push(misfit);
  }
  return { columns, misfits };
};

/**
 * The columns of a table, named: registered ones keep their names, a variant column its
 * registered name, and the rest take names neither the registry, the lineage nor another path
 * took (a suffix `_2`, `_3`… in path order), at most 240 characters.
 *
 * @param planned - the table's columns with their SQL
 * @param registry - the table's registered columns
 * @param reserved - lineage and partition names
 */
export const nameColumns = (
  planned: readonly { column: FlatColumn; expression: string }[],
  registry: readonly FlatColumn[],
  reserved: readonly string[],
  separator: string
): { column: FlatColumn; expression: string }[] => {
  const key = (column: FlatColumn) => `${column.path}\u0000${column.variant ?? ''}`;
  const known = new Map(registry.map((column) => [key(column), column]));
  const taken = new Set([...reserved, ...registry.map((column) => column.name)]);
  return planned.map(({ column, expression }) => {
    const registered = known.get(key(column));
    if (registered && registered.type === column.type) return { column: registered, expression };
    const base = safeColumnName(column.name);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}${separator}${n}`;
    taken.add(name);
    return { column: { ...column, name }, expression };
  });
};

/** A column's select item. */
export const selectItem = ({ column, expression }: { column: FlatColumn; expression: string }) =>
  `${expression} as ${quoteIdentifier(column.name)}`;
