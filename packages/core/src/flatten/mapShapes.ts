import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DuckType } from './duckType.js';
import { MAP_KEYS } from './structure.js';
import { WIDE_LEAVES } from './wideRecords.js';

/*
 * Objects whose keys are data (feature names, ids, versions, locales), found in the sample
 * before DuckDB's inference runs: that inference holds every distinct path of a batch at once
 * (MDN's browser-compat data: 350,849 paths in 22 MB, more than 1.9 GiB), so a batch holding
 * such objects is typed here instead, in one streamed pass over its lines, its maps' values
 * merged into one type per map. What is built is bounded by the record shapes, not the keys.
 */

/** Rare keys (in under half an object's instances) from which an object is a map. */
export const MAP_RARE_KEYS = 200;
/** The same below a map: a map's values that are maps again (a tree of names) need fewer. */
export const NESTED_MAP_RARE_KEYS = 20;
/**
 * Columns a batch typed here plans at most, over all its tables: past it, its objects of the
 * most keys become maps too, one after another (JSON Schema documents nest maps of property
 * names at thousands of paths, each too rare for {@link MAP_RARE_KEYS}).
 */
export const MAP_COLUMNS = 2000;
/**
 * Columns a sample with no map-shaped object may plan before it is typed here and bounded to
 * {@link MAP_COLUMNS} all the same: above any record type's (GitHub's webhooks: 3,263 leaf paths).
 */
const UNBOUNDED_COLUMNS = 2 * MAP_COLUMNS;
/** The share of an object's instances a key must be in to stay a field of a map-shaped object. */
const FIELD_SHARE = 0.5;
/**
 * Distinct keys from which an object whose instances each hold few of them is a map: keyed by
 * codes (world-countries' `currencies`, 162 ISO codes, 1.1 in a record), far too few to be
 * rare {@link MAP_RARE_KEYS} times. Also {@link WIDE_LEAVES}: a sample holding such an object
 * has as many leaf paths, and the inferred path, not the sampled plan, takes it.
 */
export const SPARSE_MAP_KEYS = WIDE_LEAVES;
/**
 * How many times the keys one instance holds on average an object's distinct keys must be for
 * {@link SPARSE_MAP_KEYS} to make it a map. A record type's optional fields are held by a good
 * share of its instances (GitHub's webhook objects of 20 keys or more: at most 7×, but
 * `changes`, 31× over 37 field names, under {@link SPARSE_MAP_KEYS}); at 10×, four keys in five
 * are in fewer than half of the instances.
 */
export const SPARSE_LIKENESS = 10;

/**
 * How the objects at one path are read: `keyed` objects keep the keys in `fields` as fields and
 * hold every other key as an entry of a map, whose values are classed as `rest`.
 */
interface ObjectClass {
  keyed: boolean;
  fields: Map<string, NodeClass>;
  rest?: NodeClass;
}
interface NodeClass {
  object?: ObjectClass;
  element?: NodeClass;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Distinct keys over the keys one instance holds on average: 1 for a record type whose fields
 * are in every instance, the instances' count for names each in one instance.
 *
 * @param distinct - the distinct keys of an object's instances
 * @param instances - the instances
 * @param held - the keys they hold, summed
 */
const likeness = (distinct: number, instances: number, held: number) =>
  (distinct * instances) / Math.max(held, 1);

/** Classes the values found at one path, given every one the sample holds there. */
const classify = (values: readonly unknown[], belowMap: boolean, record = false): NodeClass => {
  const objects = values.filter(isRecord);
  const elements = values.filter(Array.isArray).flat();
  const node: NodeClass = {};
  if (elements.length > 0) node.element = classify(elements, belowMap);
  if (objects.length === 0) return node;
  // Each key's values, in one pass (keys are data: a Map keeps `__proto__` as a key).
  const byKey = new Map<string, unknown[]>();
  for (const object of objects) {
    for (const [key, value] of Object.entries(object)) {
      const values = byKey.get(key);
      if (values) values.push(value);
      else byKey.set(key, [value]);
    }
  }
  const isRare = (values: readonly unknown[]) => values.length < FIELD_SHARE * objects.length;
  let [rare, held] = [0, 0];
  for (const values of byKey.values()) {
    if (isRare(values)) rare++;
    held += values.length;
  }
  const sparse =
    byKey.size >= SPARSE_MAP_KEYS && likeness(byKey.size, objects.length, held) >= SPARSE_LIKENESS;
  // The record itself is never a map: its keys are columns.
  const keyed =
    !record &&
    (byKey.size > MAP_KEYS || rare >= (belowMap ? NESTED_MAP_RARE_KEYS : MAP_RARE_KEYS) || sparse);
  // A map keeps fields only when most of its keys are data: a map seen once (all its keys in
  // every instance) has none.
  const common = byKey.size - rare;
  const entry = (values: readonly unknown[]) =>
    keyed && (isRare(values) || objects.length < 2 || common * 10 > byKey.size);
  const fields = new Map<string, NodeClass>();
  const restValues: unknown[] = [];
  for (const [key, values] of byKey) {
    if (entry(values)) for (const value of values) restValues.push(value);
    else fields.set(key, classify(values, belowMap));
  }
  node.object = {
    keyed,
    fields,
    ...(keyed ? { rest: classify(restValues, true) } : {}),
  };
  return node;
};

/** Whether a class holds a map-shaped object anywhere. */
const holdsMap = (node: NodeClass): boolean =>
  (node.element !== undefined && holdsMap(node.element)) ||
  (node.object !== undefined &&
    (node.object.keyed || [...node.object.fields.values()].some(holdsMap)));

/**
 * The classes of a sample's records when some object below the record is map-shaped: more than
 * {@link MAP_KEYS} distinct keys, or {@link MAP_RARE_KEYS} keys each in fewer than half of the
 * sampled objects at its path (below such a map, {@link NESTED_MAP_RARE_KEYS}), or
 * {@link SPARSE_MAP_KEYS} distinct keys and more, {@link SPARSE_LIKENESS} times the keys an
 * instance holds on average or more (keyed by codes, a few in each); none otherwise,
 * and DuckDB's inference types the batch. Keys in at least half of a map-shaped object's
 * instances stay its fields (BCD's `__compat` beside its feature names).
 *
 * @param records - the sampled records
 */
export const mapShapes = (records: readonly unknown[]): NodeClass | undefined => {
  const root = classify(records, false, true);
  if (!root.object) return undefined;
  if ([...root.object.fields.values()].some(holdsMap)) return root;
  // A sample too wide for any plan is bounded here too, whatever its objects look like: one
  // caniuse-db document (4.7 MB) holds about a million leaf paths, no key rare, and DuckDB's
  // inference and the sampled plan each ran out of 1.9 GiB after six minutes.
  const shape = newShape();
  for (const record of records) observe(record, shape, root, { decimals: false }, true);
  return columnsOf(shape) > UNBOUNDED_COLUMNS ? root : undefined;
};

/** What the values at one path were, over every record. */
interface Shape {
  /** `integer`: a safe integer on a line holding no number written with a point or exponent. */
  kinds: Set<'string' | 'bool' | 'integer' | 'number'>;
  object?: ObjectShape;
  array?: Shape;
}
interface ObjectShape {
  keyed: boolean;
  fields: Map<string, Shape>;
  rest?: Shape;
  /** Objects seen at this path, and in how many of them each field was. */
  seen: number;
  counts: Map<string, number>;
}

const newShape = (): Shape => ({ kinds: new Set() });

/** Merges `b` into `a`. */
const mergeShapes = (a: Shape, b: Shape): Shape => {
  for (const kind of b.kinds) a.kinds.add(kind);
  if (b.array) a.array = a.array ? mergeShapes(a.array, b.array) : b.array;
  if (b.object) {
    if (!a.object) a.object = b.object;
    else {
      for (const [key, shape] of b.object.fields) {
        const seen = a.object.fields.get(key);
        a.object.fields.set(key, seen ? mergeShapes(seen, shape) : shape);
      }
      if (b.object.rest)
        a.object.rest = a.object.rest ? mergeShapes(a.object.rest, b.object.rest) : b.object.rest;
      a.object.keyed ||= b.object.keyed;
      a.object.seen += b.object.seen;
      for (const [key, n] of b.object.counts)
        a.object.counts.set(key, (a.object.counts.get(key) ?? 0) + n);
    }
  }
  return a;
};

/** Adds a value to the shape of its path, as its class reads it. */
const observe = (
  value: unknown,
  shape: Shape,
  node: NodeClass | undefined,
  line: { decimals: boolean },
  record = false
): void => {
  if (value === null) return;
  if (typeof value === 'string') shape.kinds.add('string');
  else if (typeof value === 'boolean') shape.kinds.add('bool');
  else if (typeof value === 'number')
    shape.kinds.add(!line.decimals && Number.isSafeInteger(value) ? 'integer' : 'number');
  else if (Array.isArray(value)) {
    shape.array ??= newShape();
    for (const element of value) observe(element, shape.array, node?.element, line);
  } else {
    const cls = node?.object;
    shape.object ??= { keyed: cls?.keyed ?? false, fields: new Map(), seen: 0, counts: new Map() };
    const object = shape.object;
    object.seen++;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const fieldClass = cls?.fields.get(key);
      if (object.keyed && !fieldClass) {
        object.rest ??= newShape();
        observe(child, object.rest, cls?.rest, line);
        continue;
      }
      const field = object.fields.get(key) ?? newShape();
      object.fields.set(key, field);
      object.counts.set(key, (object.counts.get(key) ?? 0) + 1);
      observe(child, field, fieldClass, line);
    }
    // An object the sample did not show as a map, past any record's plausible fields, is one.
    if (!record && !object.keyed && object.fields.size > MAP_KEYS) {
      object.keyed = true;
      object.rest = [...object.fields.values()].reduce(mergeShapes, newShape());
      object.fields = new Map();
      object.counts = new Map();
    }
  }
};

/** About the columns a shape plans: a scalar's, and its objects' and arrays' ones. */
const columnsOf = (shape: Shape): number => {
  let columns = shape.kinds.size > 0 ? 1 : 0;
  if (shape.array) columns += columnsOf(shape.array);
  if (shape.object) {
    for (const field of shape.object.fields.values()) columns += columnsOf(field);
    if (shape.object.rest) columns += 1 + columnsOf(shape.object.rest);
  }
  return Math.max(columns, 1);
};

/**
 * How much an object looks like a map: its distinct keys over the keys one instance holds on
 * average (a record type's fields are mostly in every instance; a map's names in few).
 */
const mapLikeness = (object: ObjectShape) => {
  let held = 0;
  for (const n of object.counts.values()) held += n;
  return likeness(object.fields.size, object.seen, held);
};

/**
 * The object below the record that looks most like a map, not one yet, of two fields or more;
 * of objects that look alike (each key in every instance: one instance of each, as in a single
 * document), the one planning the most columns.
 */
const widestObject = (shape: Shape, record: boolean): ObjectShape | undefined => {
  // Columns of the objects compared on a tie, counted once per search: the same subtrees are
  // compared again at every level above them.
  const counted = new WeakMap<ObjectShape, number>();
  const columns = (object: ObjectShape) => {
    let n = counted.get(object);
    if (n === undefined) {
      n = columnsOf({ kinds: new Set(), object });
      counted.set(object, n);
    }
    return n;
  };
  const wider = (a: ObjectShape, b: ObjectShape) => {
    const [x, y] = [mapLikeness(a), mapLikeness(b)];
    return x > y * (1 + LIKENESS_TIE) || (x >= y / (1 + LIKENESS_TIE) && columns(a) > columns(b));
  };
  const search = (at: Shape, isRecord: boolean): ObjectShape | undefined => {
    let widest: ObjectShape | undefined;
    const consider = (candidate: ObjectShape | undefined) => {
      if (candidate && candidate.fields.size > 1 && (!widest || wider(candidate, widest)))
        widest = candidate;
    };
    if (at.object && !isRecord && !at.object.keyed) consider(at.object);
    if (at.array) consider(search(at.array, false));
    for (const field of at.object?.fields.values() ?? []) consider(search(field, false));
    if (at.object?.rest) consider(search(at.object.rest, false));
    return widest;
  };
  return search(shape, record);
};

/** How close two objects' map-likeness is to count as alike. */
const LIKENESS_TIE = 0.01;

/** Turns a shape's widest objects into maps, one by one, until it plans {@link MAP_COLUMNS}. */
const bound = (record: Shape) => {
  for (let columns = columnsOf(record); columns > MAP_COLUMNS; columns = columnsOf(record)) {
    const object = widestObject(record, true);
    if (!object) return;
    object.rest = [...object.fields.values()].reduce(mergeShapes, object.rest ?? newShape());
    object.fields = new Map();
    object.counts = new Map();
    object.keyed = true;
  }
};

/**
 * Whether two keys would name one STRUCT field: DuckDB's field names ignore case.
 *
 * @param keys - an object's keys
 */
export const clash = (keys: Iterable<string>) => {
  const lower = new Set<string>();
  for (const key of keys) {
    if (lower.has(key.toLowerCase())) return true;
    lower.add(key.toLowerCase());
  }
  return false;
};

const JSON_TYPE: DuckType = { kind: 'scalar', name: 'JSON' };

/**
 * The DuckDB type of a shape: strings `VARCHAR`, booleans `BOOLEAN`, integers `BIGINT`, other
 * numbers and mixed kinds `JSON` (their kinds are split per value, as a mixed path's are), objects STRUCTs, map-shaped
 * ones `keyed`, and a map's values that are objects beside other kinds `mixed`. Undefined
 * where DuckDB cannot name two fields apart.
 */
const typeOf = (shape: Shape, record = false): DuckType | undefined => {
  const kinds = [
    ...shape.kinds,
    ...(shape.object ? ['object'] : []),
    ...(shape.array ? ['array'] : []),
  ];
  if (kinds.length === 0) return JSON_TYPE;
  if (kinds.length > 1) {
    if (!shape.object && !shape.array) return JSON_TYPE;
    const object = shape.object && typeOf({ kinds: new Set(), object: shape.object });
    const array = shape.array && typeOf({ kinds: new Set(), array: shape.array });
    if ((shape.object && !object) || (shape.array && !array)) return undefined;
    return {
      kind: 'mixed',
      ...(object ? { object: asKeyed(object) } : {}),
      ...(array ? { array } : {}),
      scalars: shape.kinds.size > 0,
    };
  }
  if (shape.kinds.has('string')) return { kind: 'scalar', name: 'VARCHAR' };
  if (shape.kinds.has('bool')) return { kind: 'scalar', name: 'BOOLEAN' };
  if (shape.kinds.has('integer')) return { kind: 'scalar', name: 'BIGINT' };
  if (shape.array) {
    const element = typeOf(shape.array);
    return element && { kind: 'list', element };
  }
  const object = shape.object;
  if (!object) return JSON_TYPE;
  // Keys that differ only in case (CLDR's date skeletons `Hm` beside `hm`) cannot be fields of
  // one STRUCT: below the record they are a map's entries, whose keys keep their case.
  if (clash(object.fields.keys())) return record ? undefined : typeOf(entriesOnly(object));
  const fields: [string, DuckType][] = [];
  for (const [key, field] of object.fields) {
    const type = typeOf(field);
    if (!type) return undefined;
    fields.push([key, type]);
  }
  if (!object.keyed) return { kind: 'struct', fields };
  const value = typeOf(object.rest ?? newShape());
  if (!value) return undefined;
  // A map of one native kind with no fields is DuckDB's own MAP.
  if (fields.length === 0 && value.kind === 'scalar' && value.name !== 'JSON')
    return { kind: 'map', key: { kind: 'scalar', name: 'VARCHAR' }, value };
  return { kind: 'keyed', fields, value };
};

/** The shape of a map-shaped object that holds every key as an entry, its fields' values merged. */
const entriesOnly = (object: ObjectShape): Shape => ({
  kinds: new Set(),
  object: {
    keyed: true,
    fields: new Map(),
    rest: [...object.fields.values()].reduce(
      (merged, field) => mergeShapes(merged, structuredClone(field)),
      structuredClone(object.rest ?? newShape())
    ),
    seen: object.seen,
    counts: new Map(),
  },
});

/** An object type read from JSON text: a STRUCT is a keyed object with no entries. */
const asKeyed = (type: DuckType): Extract<DuckType, { kind: 'keyed' }> =>
  type.kind === 'keyed'
    ? type
    : { kind: 'keyed', fields: type.kind === 'struct' ? type.fields : [] };

/** Colons outside strings: one per key a line's objects hold, whatever JSON.parse kept. */
const keyCount = (line: string) => line.replace(/"(?:[^"\\]|\\.)*"/g, '').split(':').length - 1;

/** Keys the parsed value holds, every object's counted. */
const parsedKeys = (value: unknown): number => {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + parsedKeys(v), 0);
  if (!isRecord(value)) return 0;
  let n = 0;
  for (const child of Object.values(value)) n += 1 + parsedKeys(child);
  return n;
};

/**
 * The record type of JSON Lines files, every line seen, with the sample's map-shaped objects
 * ({@link mapShapes}) as `keyed` types (or MAPs); none when a line is no JSON object or holds a
 * key twice in one object (JSON.parse keeps one of them: DuckDB's reader tells), or two fields
 * DuckDB cannot name apart.
 *
 * @param files - the local files, masked
 * @param classes - the sample's classes
 */
export const inferMapShaped = async (
  files: readonly string[],
  classes: NodeClass
): Promise<Extract<DuckType, { kind: 'struct' }> | undefined> => {
  const shape = newShape();
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return undefined;
      }
      if (!isRecord(value) || keyCount(line) !== parsedKeys(value)) return undefined;
      // JSON.parse reads `1.0` as 1: on a line that may hold such a number (a string `"v1.2"`
      // is enough), no number is taken for an integer, and DuckDB splits their kinds.
      observe(value, shape, classes, { decimals: /[0-9][.eE]/.test(line) }, true);
    }
  }
  bound(shape);
  const type = typeOf(shape, true);
  return type?.kind === 'struct' ? type : undefined;
};
