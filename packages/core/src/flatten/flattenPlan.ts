import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { BadInputError } from '../errors/index.js';
import type { CatalogColumnType, ScalarColumnType } from '../ports/index.js';
import {
  groupType,
  KIND_GROUP,
  kindGroups,
  listKindsOf,
  orderGroups,
  type VariantKind,
} from './kindGroups.js';
import {
  bindOnce,
  doubleListFits,
  doubleListValue,
  fitsDouble,
  listShape,
  listTypeOf,
  valueKind,
} from './listTypes.js';
import {
  holdsUnreachableKey,
  isAddressable,
  isObject,
  type JsonStructure,
  jsonPath,
  pathKeys,
  quoteKey,
} from './structure.js';

/** A scalar column type. */
export type ScalarType = ScalarColumnType;

export type { VariantKind } from './kindGroups.js';

/** One output column: where its value lives in the record and how it is typed. */
export interface FlatColumn {
  /** `a_b_c`: the path's keys, normalised, joined by the separator. */
  name: string;
  /** JSONPath into the record, e.g. `$."user"."address"."city"`. */
  path: string;
  /**
   * BIGINT, DOUBLE, BOOLEAN, VARCHAR, JSON (deep subtrees, conflicting types), a LIST of a
   * scalar (`BIGINT[]`) or a MAP from text to a scalar.
   */
  type: CatalogColumnType;
  /** A variant column: the values at `path` of this kind, beside the path's own column. */
  variant?: VariantKind;
}

/** Whether a column type is a LIST or a MAP. */
export const isListOrMap = (type: string) => type.endsWith('[]') || type.startsWith('MAP(');

/**
 * Columns read from a registry, their paths as {@link jsonPath} writes them now: registries
 * written before it kept control characters as they are hold them escaped, as JSON does.
 *
 * @param columns - a registry's or a schema fragment's columns
 */
export const withCurrentPaths = (columns: readonly FlatColumn[]): FlatColumn[] =>
  columns.map((column) => ({ ...column, path: jsonPath(pathKeys(column.path)) }));

export interface FlattenOptions {
  /** Joins nested keys into a column name (default `_`). */
  separator: string;
  /** Objects nested deeper than this stay one JSON column. */
  maxDepth: number;
  /** Names the output already uses (partition keys, lineage): a field named so gets a suffix. */
  reserved?: readonly string[];
}

/** DuckDB's json_structure type names → the column type Strata writes. */
const LEAF: Record<string, FlatColumn['type']> = {
  UBIGINT: 'BIGINT',
  BIGINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  VARCHAR: 'VARCHAR',
  // A field only ever seen as null: text is the type every later value fits.
  NULL: 'VARCHAR',
  JSON: 'JSON',
};

/** Lower snake case: letters, digits, underscores. */
export const normalise = (key: string): string =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '') || 'field';

/** The longest column name a path gets, leaving room for a suffix under Glue's 255. */
const MAX_NAME = 240;

/** A flattened name as a SQL identifier: never opening with a digit, never too long. */
export const safeColumnName = (name: string) =>
  (/^[0-9]/.test(name) ? `_${name}` : name).slice(0, MAX_NAME);

/**
 * The columns a merged JSON structure (DuckDB's `json_group_structure`) flattens into.
 *
 * Nested objects become `a_b_c` columns down to `maxDepth`; an array of scalars of one kind, at
 * any depth, a LIST column (`listTypeOf`); other arrays, deeper subtrees and fields whose types
 * conflict across records stay JSON, so no value is dropped or coerced to null (a value that
 * does not fit its column's type is kept in `_variant`). Names that collide after normalising get a
 * numeric suffix in path order.
 *
 * @param structure - the merged structure, parsed
 * @param options - separator and depth
 */
export const flattenPlan = (structure: JsonStructure, options: FlattenOptions): FlatColumn[] => {
  const columns: FlatColumn[] = [];
  const walk = (node: JsonStructure, keys: string[]) => {
    const depth = keys.length;
    const path = jsonPath(keys);
    const name = safeColumnName(keys.map(normalise).join(options.separator));
    if (isObject(node)) {
      // An object with no keys yet, one too deep to flatten, or one with a key no JSON path
      // reaches (`""`, `*`), is kept whole.
      if (
        depth >= options.maxDepth ||
        Object.keys(node).length === 0 ||
        holdsUnreachableKey(node)
      ) {
        columns.push({ name, path, type: 'JSON' });
        return;
      }
      for (const [key, child] of Object.entries(node)) walk(child, [...keys, key]);
      return;
    }
    const type = Array.isArray(node) ? listTypeOf(node) : LEAF[node];
    columns.push({ name, path, type: type ?? 'JSON' });
  };
  if (isObject(structure)) {
    const unreachable = Object.keys(structure).filter((key) => !isAddressable(key));
    if (unreachable.length > 0) {
      throw new BadInputError(
        `records hold top-level keys no JSON path reaches (${unreachable.map((key) => JSON.stringify(key)).join(', ')}): rename them at the source, or move their records out of the batch`
      );
    }
    for (const [key, child] of Object.entries(structure)) walk(child, [key]);
  }
  const seen = new Map<string, number>((options.reserved ?? []).map((name) => [name, 1]));
  return columns.map((column) => {
    const count = (seen.get(column.name) ?? 0) + 1;
    seen.set(column.name, count);
    return count === 1 ? column : { ...column, name: `${column.name}${options.separator}${count}` };
  });
};

/** The groups a path's own column of a type takes; the others go to variant columns. */
const TAKES: Record<string, readonly VariantKind[]> = {
  VARCHAR: ['text'],
  BIGINT: ['bigint'],
  DOUBLE: ['bigint', 'double'],
  BOOLEAN: ['bool'],
  JSON: ['text', 'bigint', 'double', 'bool', 'json'],
};
/**
 * The groups a column of a path split by kind takes: a variant column its own, a path's own
 * LIST column its depth's lists and the path's other arrays and objects (those that are no
 * such list go to `_variant`, as in a LIST column of a path of one kind).
 */
export const groupsTaken = (column: FlatColumn): readonly VariantKind[] => {
  if (column.variant) return [column.variant];
  const shape = listShape(column.type);
  if (shape) return [`list${shape.depth}`, 'json'];
  return isListOrMap(column.type) ? ['json'] : (TAKES[column.type] ?? []);
};

/** The `json_type`s a column of a path split by kind takes (lists of one kind aside). */
const kindsTaken = (columns: readonly FlatColumn[]): string[] => {
  const groups = new Set(columns.flatMap(groupsTaken));
  return Object.keys(KIND_GROUP).filter((kind) => groups.has(KIND_GROUP[kind] as VariantKind));
};

/** The list kinds the LIST columns among a path's columns take. */
const listKindsTaken = (columns: readonly FlatColumn[]) =>
  columns.flatMap((column) => listKindsOf(column.type));

/**
 * Whether a column of a path split by kind takes the path's value, in SQL. Where a LIST column
 * is among the path's columns, arrays are told apart by their `valueKind`: a LIST column takes
 * its depth's lists, and a column taking JSON arrays takes those no LIST column there takes.
 *
 * @param column - the column
 * @param value - the path's value, as JSON, in SQL
 * @param siblings - all the path's columns, `column` among them
 * @param kind - the value's `valueKind`, where a LIST column is among them ({@link overKind})
 */
const holdsValue = (
  column: FlatColumn,
  value: string,
  siblings: readonly FlatColumn[],
  kind = valueKind(value)
) => {
  const kinds = kindsTaken([column]);
  const lists = listKindsTaken(siblings);
  if (lists.length === 0) return `json_type(${value}) in (${kinds.map(quoteLiteral).join(', ')})`;
  const own = listKindsOf(column.type);
  const scalar = kinds.filter((k) => k !== 'ARRAY');
  const holds = [
    ...(scalar.length ? [`json_type(${value}) in (${scalar.map(quoteLiteral).join(', ')})`] : []),
    ...(own.length ? [`${kind} in (${own.map(quoteLiteral).join(', ')})`] : []),
    ...(kinds.includes('ARRAY')
      ? [
          `(json_type(${value}) = 'ARRAY' and ${kind} not in (${lists.map(quoteLiteral).join(', ')}))`,
        ]
      : []),
  ];
  return `(${holds.join(' or ') || 'false'})`;
};

/**
 * `body` over a path's value and its `valueKind`, each computed once where a LIST column is
 * among the path's columns (`bindOnce`); over the value as it is otherwise, its kind unused.
 */
const overKind = (
  value: string,
  siblings: readonly FlatColumn[],
  body: (value: string, kind?: string) => string
) =>
  listKindsTaken(siblings).length === 0
    ? body(value)
    : bindOnce(value, '__strata_v', (bound) =>
        bindOnce(valueKind(bound), '__strata_k', (kind) => body(bound, kind))
      );

/**
 * One column of a path split by kind (its own column and its variant columns `<name>__v_<kind>`)
 * from the path's JSON value: the values of the kinds it takes, typed, and, for a typed column,
 * `_variant`'s entry for a value of its kind that does not fit it (an integer past BIGINT).
 *
 * @param column - the column
 * @param value - the path's value, as JSON, in SQL
 * @param siblings - all the path's columns (default: `column` alone)
 */
export const kindColumn = (
  column: FlatColumn,
  value: string,
  siblings: readonly FlatColumn[] = [column]
): { expression: string; misfit?: string } => {
  return {
    expression: overKind(value, siblings, (bound, kind) => {
      const typed =
        column.type === 'VARCHAR'
          ? `json_extract_string(${bound}, '$')`
          : column.type === 'JSON'
            ? bound
            : typedValue(column.type, `${bound}::varchar`);
      return `(case when ${holdsValue(column, bound, siblings, kind)} then ${typed} end)`;
    }),
    ...(column.type !== 'VARCHAR' && column.type !== 'JSON'
      ? {
          misfit: overKind(
            value,
            siblings,
            (bound, kind) =>
              `(case when ${holdsValue(column, bound, siblings, kind)} and not ${fitsValue(column.type, `${bound}::varchar`)} then json_object(${quoteLiteral(column.name)}, ${bound}) end)`
          ),
        }
      : {}),
  };
};

/**
 * A path's columns once the kinds of its values are known: where they are of more than one
 * kind (`JSON` in the structure), its own column takes the registered type or else the first
 * of text, double, integer, boolean, JSON present (so an ISO time that is an epoch number
 * elsewhere stays text, the numbers beside it), and a variant column `<name>__v_<kind>` (dlt's
 * names) each other kind. A path of one kind, whose own column is JSON, or registered as one
 * column (no variant column), stays one column: a feed's columns do not change under readers.
 *
 * @param columns - the planned columns, registered ones as registered
 * @param kinds - the `json_type`s seen at the paths of mixed kinds
 * @param registry - the registered columns, whose variant columns keep their names
 * @param separator - joins a suffix to a name another column took
 */
export const splitByKind = (
  columns: readonly FlatColumn[],
  kinds: ReadonlyMap<string, readonly string[]>,
  registry: readonly FlatColumn[],
  separator: string
): FlatColumn[] => {
  const taken = new Set([...columns, ...registry].map((column) => column.name));
  const registered = new Set(registry.filter((c) => !c.variant).map((c) => c.path));
  const split = new Set(registry.filter((c) => c.variant).map((c) => c.path));
  return columns.flatMap((column) => {
    const seen = kinds.get(column.path) ?? [];
    const { group, types } = kindGroups(seen, !keptAsJson(registry, column.path));
    const groups = orderGroups(seen.map((kind) => group.get(kind) as VariantKind));
    // A path registered as one column stays one, its misfits in `_variant`, as before.
    if (groups.length < 2 || (registered.has(column.path) && !split.has(column.path))) {
      return [column];
    }
    const own = registered.has(column.path)
      ? column
      : { ...column, type: groupType(groups[0] as VariantKind, types) };
    const takes = groupsTaken(own);
    const variants = groups
      .filter((group) => !takes.includes(group))
      .map((group): FlatColumn => {
        const known = registry.find((c) => c.path === column.path && c.variant === group);
        if (known) return known;
        const base = safeColumnName(`${own.name}__v_${group}`);
        let name = base;
        for (let n = 2; taken.has(name); n++) name = `${base}${separator}${n}`;
        taken.add(name);
        return { name, path: column.path, type: groupType(group, types), variant: group };
      });
    return [own, ...variants];
  });
};

/** Whether the registry keeps a path's values as JSON text: in its own column or `__v_json`. */
export const keptAsJson = (registry: readonly FlatColumn[], path: string) =>
  registry.some(
    (column) =>
      column.path === path &&
      (column.variant === 'json' || (!column.variant && column.type === 'JSON'))
  );

/** A column typed BIGINT, DOUBLE or BOOLEAN: its values are read as JSON text, kind and all. */
export const isTyped = (column: FlatColumn) => column.type !== 'JSON' && column.type !== 'VARCHAR';

/**
 * How a select reaches a column's value: a typed column's as its JSON text (a string keeps its
 * quotes, so `"5"` is no number), a VARCHAR column's as text, a JSON column's as JSON.
 */
export type ColumnAccess = (column: FlatColumn) => string;

/** Reads columns out of a JSON column with JSONPath (one parse per column and row: the slow path). */
export const jsonAccess =
  (record: string): ColumnAccess =>
  (column) => {
    const path = quoteLiteral(column.path);
    if (column.type === 'JSON') return `json_extract(${record}, ${path})`;
    return isTyped(column)
      ? `nullif(json_extract(${record}, ${path})::varchar, 'null')`
      : `json_extract_string(${record}, ${path})`;
  };

/**
 * Columns read out of a JSON column that is parsed once a row, where {@link jsonAccess} parses
 * it once per column: `extract` (one `json_extract` with the list of every path the columns
 * and their objects have) is selected as `list` beneath the select `access` and `holdsObject`
 * build. Lighthouse's message catalogs (300 KB records, 1,276 columns) held a parse per
 * expression and ran out of 1.9 GiB over 48 rows; with two columns, the list costs more than
 * it saves (the backlog's items), hence {@link LISTED_PATHS}.
 *
 * @param record - the JSON column
 * @param list - the name `extract` is selected as
 * @param columns - the columns to read
 */
export const listedJsonAccess = (record: string, list: string, columns: readonly FlatColumn[]) => {
  const paths = [...new Set([...columns.map((c) => c.path), ...flattenedObjects(columns).keys()])];
  const index = new Map(paths.map((path, i) => [path, i + 1]));
  const item = (path: string) =>
    index.has(path)
      ? `${list}[${index.get(path)}]`
      : `json_extract(${record}, ${quoteLiteral(path)})`;
  const access: ColumnAccess = (column) => {
    if (column.type === 'JSON') return item(column.path);
    return isTyped(column)
      ? `nullif(${item(column.path)}::varchar, 'null')`
      : `(${item(column.path)} ->> '$')`;
  };
  const holdsObject: ObjectPresence = (path) => `(json_type(${item(path)}) = 'OBJECT')`;
  return {
    extract: `json_extract(${record}, [${paths.map(quoteLiteral).join(', ')}])`,
    access,
    holdsObject,
  };
};

/** Columns from which a JSON column is read by {@link listedJsonAccess}, not path by path. */
export const LISTED_PATHS = 100;

/**
 * Reads columns out of the STRUCT columns `read_json` produced with {@link readJsonColumns},
 * typed columns read as JSON (see `readShapeOf`).
 */
export const structAccess: ColumnAccess = (column) => {
  const [top, ...rest] = pathKeys(column.path);
  const value = rest.reduce(
    (expression, key) => `struct_extract(${expression}, ${quoteLiteral(key)})`,
    quoteKey(top ?? '')
  );
  return isTyped(column) ? `${value}::varchar` : value;
};

/** Whether a record holds an object (not null, not missing) at a JSON path, in SQL. */
export type ObjectPresence = (path: string) => string;

/** Whether a STRUCT `read_json` produced holds an object at a path: a null one reads as NULL. */
export const structHoldsObject: ObjectPresence = (path) =>
  `(${structAccess({ name: '', path, type: 'JSON' })} is not null)`;

/** Whether a JSON record holds an object at a path. */
export const jsonHoldsObject =
  (record: string): ObjectPresence =>
  (path) =>
    `(json_type(${record}, ${quoteLiteral(path)}) = 'OBJECT')`;

/**
 * The objects flattened into columns (every proper prefix of a column's path), each with what
 * it directly holds: its columns, and the paths of the objects inside it.
 */
const flattenedObjects = (columns: readonly FlatColumn[]) => {
  const objects = new Map<string, { columns: FlatColumn[]; objects: Set<string> }>();
  for (const column of columns) {
    const keys = pathKeys(column.path);
    for (let depth = 1; depth < keys.length; depth++) {
      const path = jsonPath(keys.slice(0, depth));
      const held = objects.get(path) ?? { columns: [], objects: new Set<string>() };
      if (depth === keys.length - 1) held.columns.push(column);
      else held.objects.add(jsonPath(keys.slice(0, depth + 1)));
      objects.set(path, held);
    }
  }
  return objects;
};

/**
 * A typed column's value from its JSON text, or null where it does not fit (then it is in
 * `_variant`, digit for digit): only JSON's own literals are booleans, only an integer the
 * BIGINT holds as written fits one (try_cast would round 5.5 to 6), only a finite number fits a
 * DOUBLE, and of integers only those up to 2^53 (9223372036854775807 would read back as
 * 9.223372036854776e18). A JSON string fits none: its text keeps its quotes.
 */
const typed = (column: FlatColumn, value: string): string =>
  isTyped(column) ? typedValue(column.type, value) : value;

/**
 * Whether a typed column takes a value's JSON text ({@link typedValue} is not null), in SQL: a
 * DOUBLE list's without building the list, which a misfit check does not need.
 *
 * @param type - the column's type (not VARCHAR or JSON)
 * @param value - the value's JSON text
 */
export const fitsValue = (type: FlatColumn['type'], value: string): string => {
  const list = listShape(type);
  return list?.element === 'DOUBLE'
    ? doubleListFits(list, value)
    : `${typedValue(type, value)} is not null`;
};

/**
 * {@link typed} for a type: a LIST or MAP takes a JSON value only when it reads back as the same
 * JSON (`[1.5]` is no BIGINT[]); a DOUBLE list when it is a list of numbers at its depth that a
 * double holds as written (`doubleListValue`: `[10, -2.5]` reads back as `[10.0, -2.5]`).
 *
 * @param type - the column's type (not VARCHAR or JSON)
 * @param value - the value's JSON text
 */
export const typedValue = (type: FlatColumn['type'], value: string): string => {
  const list = listShape(type);
  if (list?.element === 'DOUBLE') return doubleListValue(list, value);
  if (isListOrMap(type)) {
    const cast = `try_cast(${value}::json as ${type})`;
    return `(case when to_json(${cast})::varchar = json(${value})::varchar then ${cast} end)`;
  }
  if (type === 'BOOLEAN')
    return `(case ${value} when 'true' then true when 'false' then false end)`;
  if (type === 'BIGINT') {
    return `(case when try_cast(${value} as bigint)::varchar = ${value} then try_cast(${value} as bigint) end)`;
  }
  return `(case when ${fitsDouble(value)} then try_cast(${value} as double) end)`;
};

/**
 * The select list that flattens records into the planned columns, each typed, plus `_variant`:
 * a JSON list of `{column: value}` for every value that did not fit its column's type (kept,
 * never nulled).
 *
 * @param columns - the plan
 * @param access - how to reach each column's value ({@link jsonAccess} or {@link structAccess})
 * @param strict - paths of typed columns where a value that does not fit (`"5"` or `1.0` for a
 *   BIGINT) fails the query instead, for the key pass to type the column by every value
 * @param holdsObject - how to tell an object from a null or a missing one, so an empty object
 *   flattened into columns is kept in `_variant` as `{"<its JSON path>": {}}`
 */
export const flattenSelect = (
  columns: readonly FlatColumn[],
  access: ColumnAccess,
  strict: ReadonlySet<string> = new Set(),
  holdsObject?: ObjectPresence
): string => {
  // Paths split by kind are read as JSON, each column taking the values of its kinds.
  const split = new Map<string, FlatColumn[]>();
  for (const column of columns.filter((c) => c.variant)) split.set(column.path, []);
  for (const column of columns) split.get(column.path)?.push(column);
  const misfits: string[] = [];
  const selected = columns.map((column) => {
    const held = split.get(column.path);
    if (held) {
      const { expression, misfit } = kindColumn(column, access({ ...column, type: 'JSON' }), held);
      if (misfit) misfits.push(misfit);
      return `${expression} as ${quoteIdentifier(column.name)}`;
    }
    const value = access(column);
    const misfit = `error(${quoteLiteral(`a value of ${column.name} is no ${column.type}`)})`;
    // The fallback is evaluated only where the typed value is null: the check costs one cast.
    const checked = strict.has(column.path)
      ? `coalesce(${typed(column, value)}, case when ${value} is not null then ${misfit} end)`
      : typed(column, value);
    return `${checked} as ${quoteIdentifier(column.name)}`;
  });
  // A value of a kind none of its path's columns takes (the sample did not show it) is kept
  // under the path's own column.
  for (const [path, held] of split) {
    const own = held.find((column) => !column.variant) ?? (held[0] as FlatColumn);
    const value = access({ ...own, path, type: 'JSON' });
    misfits.push(
      overKind(value, held, (bound, kind) => {
        const none =
          kind === undefined
            ? `json_type(${bound}) not in (${[...kindsTaken(held), 'NULL'].map(quoteLiteral).join(', ')})`
            : `json_type(${bound}) <> 'NULL' and not (${held.map((c) => holdsValue(c, bound, held, kind)).join(' or ')})`;
        return `(case when ${none} then json_object(${quoteLiteral(own.name)}, ${bound}) end)`;
      })
    );
  }
  misfits.push(
    ...columns
      .filter((column) => isTyped(column) && !strict.has(column.path) && !split.has(column.path))
      .map((column) => {
        const value = access(column);
        return `case when ${value} is not null and not ${fitsValue(column.type, value)} then json_object(${quoteLiteral(column.name)}, ${value}::json) end`;
      })
  );
  // An object flattened into columns that holds none of their values (`{}`) would read as one
  // missing: `_variant` keeps it, under its path. Only what it holds directly is checked (an
  // object inside it counts as held when it is there), so the cost grows with the columns.
  const empties = holdsObject
    ? [...flattenedObjects(columns)].map(([path, held]) => {
        const none = [
          ...held.columns.map((column) => `${access(column)} is null`),
          ...[...held.objects].map((inner) => `not coalesce(${holdsObject(inner)}, false)`),
        ];
        return `case when ${holdsObject(path)} and ${none.join(' and ')} then json_object(${quoteLiteral(path)}, '{}'::json) end`;
      })
    : [];
  misfits.push(...empties);
  const variant = misfits.length
    ? `nullif(to_json(list_filter([${misfits.join(', ')}], x -> x is not null)), '[]') as _variant`
    : 'null::json as _variant';
  return [...selected, variant].join(',\n  ');
};
