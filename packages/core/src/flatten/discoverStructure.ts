import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { maximumObjectSize } from './constants.js';
import type { Rejection } from './strictJson.js';
import {
  collapseMaps,
  isObject,
  type JsonStructure,
  jsonPath,
  leafPaths,
  MAP_KEYS,
  mergeStructures,
  objectPaths,
  pathKeys,
  structureAt,
  withStructureAt,
} from './structure.js';

/** Files DuckDB reads together: JSON Lines, or one JSON array of records per file. */
export interface FileGroup {
  format: 'newline_delimited' | 'array';
  paths: string[];
  /** How many records the files hold, when known (their lines): spreads the type sample. */
  records?: number;
  /** A JSON Lines file of records sampled from the files already: read instead of them. */
  sample?: string;
  /** Bytes of the longest record the files hold (or may hold, for an array); none: DuckDB's default. */
  longestRecord?: number;
}

/**
 * Records already in DuckDB: a query with a `json` column (and a `filename` column to count
 * them by), such as the elements of an exploded array.
 */
export interface RelationGroup {
  format: 'relation';
  records?: number;
  /** One name per source, for the counts; the relation's `filename` values. */
  paths: string[];
  sql: string;
}

type RecordGroup = FileGroup | RelationGroup;

export interface DiscoveredStructure {
  structure: JsonStructure;
  /** JSON objects DuckDB found per file path (malformed lines and other values are not). */
  records: Map<string, number>;
  /**
   * Per JSON Lines file, its lines that hold no record (numbered among its non-blank lines,
   * as DuckDB's reader yields them), and why.
   */
  rejected: Map<string, Map<number, Rejection>>;
  /** Files DuckDB could not read as their group's format at all (a broken array…). */
  unreadable: Set<string>;
}

/** Records whose structure seeds the types: cheap, and most batches' shape shows in them. */
const HEAD_RECORDS = 1000;
/** Leaf types a value of another kind would not fit (NULL: only nulls seen so far). */
const TYPED_LEAVES = new Set(['UBIGINT', 'BIGINT', 'DOUBLE', 'BOOLEAN', 'NULL']);
/** `json_type` kinds as structure shapes: a leaf seen as an object or a list is not a scalar. */
const KIND_SHAPE: Record<string, JsonStructure> = { OBJECT: {}, ARRAY: ['NULL'] };

const pathList = (paths: readonly string[]) =>
  paths.length ? `[${paths.map(quoteLiteral).join(', ')}]` : '[]::varchar[]';

/** The records of a group as JSON, one row each, with their file. */
const objectsReader = (group: RecordGroup): string =>
  group.format === 'relation'
    ? `(${group.sql})`
    : group.format === 'array'
      ? `read_json_objects(${pathList(group.paths)}, format = 'array', filename = true, ${maximumObjectSize(group.longestRecord ?? 0)})`
      : `read_ndjson_objects(${pathList(group.paths)}, filename = true, ignore_errors = true, ${maximumObjectSize(group.longestRecord ?? 0)})`;

/** The file a DuckDB read error names, if it is one of `paths`. */
export const fileNamedIn = (error: unknown, paths: readonly string[]): string | undefined => {
  const message = error instanceof Error ? error.message : String(error);
  return paths.find((path) => message.includes(`"${path}"`) || message.includes(`'${path}'`));
};

/**
 * Runs `work` over a group; a file DuckDB cannot read as the group's format is taken out and
 * reported, and the rest is read again. A relation is already read: its errors are real.
 */
const withoutUnreadable = async <T, G extends RecordGroup>(
  group: G,
  unreadable: Set<string>,
  work: (group: G) => Promise<T>
): Promise<T | undefined> => {
  let paths = group.paths.filter((path) => !unreadable.has(path));
  while (paths.length > 0) {
    try {
      return await work({ ...group, paths });
    } catch (error) {
      const bad = group.format === 'relation' ? undefined : fileNamedIn(error, paths);
      if (!bad) throw error;
      unreadable.add(bad);
      paths = paths.filter((path) => path !== bad);
    }
  }
  return undefined;
};

/** The structure of the records in a JSON list's structure (`[{…}]` → `{…}`). */
const elementsOf = (text: unknown): JsonStructure => {
  const list = JSON.parse(String(text ?? '"NULL"')) as JsonStructure;
  return Array.isArray(list) ? (list[0] ?? 'NULL') : list;
};

/** A first structure of a batch's records, and the files DuckDB could not read at all. */
export interface SampledStructure {
  structure: JsonStructure;
  unreadable: Set<string>;
}

/**
 * Step 1 of {@link discoverStructure}: the registry's structure merged with a sample's, the
 * group's own sample file when it has one (lines Node kept while it scanned the files), else
 * the first 1,000 records and about 1,000 more spread over the rest.
 *
 * @example
 * ```ts
 * const { structure } = await sampleStructure(engine, [{ format: 'newline_delimited', paths, sample }], {});
 * ```
 *
 * @param engine - the engine
 * @param groups - the batch's files
 * @param known - the structure the feed's registry already knows
 */
export const sampleStructure = async (
  engine: DuckDbEngine,
  groups: readonly RecordGroup[],
  known: JsonStructure
): Promise<SampledStructure> => {
  const unreadable = new Set<string>();
  let structure = known;
  for (const group of groups) {
    await withoutUnreadable(group, unreadable, async (readable) => {
      // Schemas drift over time, so records spread over the whole group show it better than
      // the first ones alone; the spread needs the group's size, which files given by line know.
      const every = Math.floor((readable.records ?? 0) / HEAD_RECORDS);
      const [sample, longest] =
        readable.format === 'relation' ? [] : [readable.sample, readable.longestRecord ?? 0];
      // A line of a file that is not an object is no record (it goes to quarantine): one in
      // the sample would make the records' structure a mix of kinds.
      const records = readable.format === 'relation' ? 'true' : `json_type(json) = 'OBJECT'`;
      const [head] = await engine.all(
        sample
          ? `select json_structure(to_json(list(json))) as s from read_ndjson_objects(${quoteLiteral(sample)}, ignore_errors = true, ${maximumObjectSize(longest ?? 0)}) where ${records}`
          : every > 1
            ? `select json_structure(to_json(list(json))) as s from (
               select json from (select json, row_number() over () as rn from ${objectsReader(readable)})
               where (rn <= ${HEAD_RECORDS} or rn % ${every} = 0) and ${records})`
            : `select json_structure(to_json(list(json))) as s from (select json from (select json from ${objectsReader(readable)} limit ${HEAD_RECORDS}) where ${records})`
      );
      structure = mergeStructures(structure, collapseMaps(elementsOf(head?.s)));
    });
  }

  return { structure, unreadable };
};

/**
 * Finds every key of a batch's records down to `maxDepth`, and every kind of value at every
 * column: no key is missed, because every record's keys at every known object are listed.
 *
 * 1. The registry and a sample give a first structure ({@link sampleStructure}).
 * 2. One pass lists, per record, the keys of every object that structure knows (`json_keys`)
 *    and the kind of every typed leaf (`json_type`), grouped by shape so memory stays one row
 *    per shape; it counts records per file and names the lines that hold none.
 * 3. Keys that pass found beyond the sample get their subtree's structure from a sample of the
 *    records holding them, and the pass runs again to list inside those subtrees; only batches
 *    whose schema drifts pay for it.
 *
 * Where a value's type differs from the one planned, nothing is lost later: scalars are read as
 * text and a misfit is parked in `_variant`; an object where a scalar was planned is kept as its
 * JSON text; a scalar where an object was planned makes DuckDB's reader fail for that file, which
 * then takes the slow path, where this pass reads its records' kinds at objects too.
 *
 * @param engine - the engine
 * @param groups - the batch's files
 * @param options - the flattening depth and the structure the feed's registry already knows
 */
export const discoverStructure = async (
  engine: DuckDbEngine,
  groups: readonly RecordGroup[],
  options: { maxDepth: number; known: JsonStructure }
): Promise<DiscoveredStructure> => {
  const sampled = await sampleStructure(engine, groups, options.known);
  const { unreadable } = sampled;
  let { structure } = sampled;

  // Each pass lists every record's keys at every object the structure knows, and the kind of
  // every value at every leaf (one parse each, grouped, so memory holds one row per shape); keys
  // it finds beyond the sample get their subtree's structure from a sample of the records
  // holding them, and the pass runs again to look inside those subtrees. It ends when a pass
  // finds nothing new: one pass unless the sample missed drift, and at most one per level.
  for (;;) {
    const records = new Map<string, number>();
    const rejected = new Map<string, Map<number, Rejection>>();
    let found: string[][] = [];
    /** Records holding a key the structure did not know. */
    let holding = 0;
    const checked = objectPaths(structure, options.maxDepth);
    // Text and JSON columns take any value losslessly; only the kinds of typed leaves can
    // change the plan, so only those are read, and the root's, which tells a record from a
    // line that holds no object. Records already in DuckDB are read for the kinds at objects
    // too: a scalar where an object was sampled keeps that object whole, as JSON. Files skip
    // them (a fifth of the pass): DuckDB's reader refuses such a file, which then goes line
    // by line and is read here as records.
    const leaves = leafPaths(structure, options.maxDepth).filter((keys) => {
      const leaf = structureAt(structure, keys);
      return keys.length > 0 && typeof leaf === 'string' && TYPED_LEAVES.has(leaf);
    });
    for (const group of groups) {
      const kindPaths = [
        [],
        ...leaves,
        ...(group.format === 'relation' ? checked.filter((keys) => keys.length > 0) : []),
      ];
      const rows = (
        (await withoutUnreadable(group, unreadable, (readable) =>
          engine.all(`
            select filename, keys, kinds, count(*) as n, min(rn) as first,
              ${readable.format === 'newline_delimited' ? `list(rn) filter (where kinds[1] is distinct from 'OBJECT')` : 'null'} as rejected
            from (
              select filename, json_keys(json, ${pathList(checked.map(jsonPath))}) as keys,
                json_type(json, ${pathList(kindPaths.map(jsonPath))}) as kinds,
                row_number() over () as rn
              from ${objectsReader(readable)}
            )
            group by filename, keys, kinds
            order by all`)
        )) ?? []
      ).map((row) => ({
        file: String(row.filename),
        keys: (row.keys ?? []) as (string[] | null)[],
        kinds: (row.kinds ?? []) as (string | null)[],
        n: Number(row.n),
        first: Number(row.first),
        rejected: ((row.rejected ?? []) as string[]).map(Number),
      }));
      // The reader yields a row per non-blank line, file after file: a row's line in its file
      // counts from the file's first row.
      const first = new Map<string, number>();
      for (const row of rows)
        first.set(row.file, Math.min(first.get(row.file) ?? row.first, row.first));
      for (const row of rows.filter((r) => r.rejected.length > 0)) {
        const lines = rejected.get(row.file) ?? new Map<number, Rejection>();
        const reason = row.kinds[0] ? 'not a JSON object' : 'not valid JSON';
        for (const rn of row.rejected) lines.set(rn - (first.get(row.file) ?? 1) + 1, reason);
        rejected.set(row.file, lines);
      }
      // An array element that is no object goes to quarantine line by line: DuckDB's reader
      // would take a list's own elements for records instead.
      if (group.format === 'array') {
        for (const row of rows) if (row.kinds[0] !== 'OBJECT') unreadable.add(row.file);
      }
      // Malformed lines (no JSON) and values that are not objects are no records of a file.
      const shapes = rows.filter((row) => group.format === 'relation' || row.kinds[0] === 'OBJECT');
      // Leaves first: an object widened to JSON below must not take its leaves back.
      const order: [from: number, to: number][] = [
        [1, 1 + leaves.length],
        [0, 1],
        [1 + leaves.length, kindPaths.length],
      ];
      for (const [from, to] of order) {
        for (const row of shapes) {
          for (let i = from; i < to; i++) {
            const [at, kind] = [kindPaths[i], row.kinds[i]];
            if (at && kind) structure = withStructureAt(structure, at, KIND_SHAPE[kind] ?? kind);
          }
        }
      }
      for (const row of shapes) {
        records.set(row.file, (records.get(row.file) ?? 0) + row.n);
        let holdsNew = false;
        for (const [i, keys] of row.keys.entries()) {
          // An object widened to JSON above is kept whole: its keys are no columns.
          if (!isObject(structureAt(structure, checked[i] ?? []))) continue;
          for (const key of keys ?? []) {
            const path = [...(checked[i] ?? []), key];
            if (structureAt(structure, path) !== undefined) continue;
            holdsNew = true;
            if (!found.some((p) => jsonPath(p) === jsonPath(path))) found.push(path);
          }
        }
        if (holdsNew) holding += row.n;
      }
    }
    // An object the pass keeps finding keys in is a map: its keys are data, and it is kept whole.
    const byParent = new Map<string, string[][]>();
    for (const path of found) {
      const parent = jsonPath(path.slice(0, -1));
      const siblings = byParent.get(parent) ?? [];
      siblings.push(path);
      byParent.set(parent, siblings);
    }
    for (const [parent, paths] of byParent) {
      const keys = pathKeys(parent);
      const node = structureAt(structure, keys);
      if (keys.length > 0 && isObject(node) && Object.keys(node).length + paths.length > MAP_KEYS) {
        structure = withStructureAt(structure, keys, 'JSON');
        byParent.delete(parent);
      }
    }
    found = [...byParent.values()].flat();
    // Objects a subtree sample showed have had their keys sampled, not listed: one more pass.
    const listed = new Set(checked.map(jsonPath));
    const unlisted = objectPaths(structure, options.maxDepth).some((p) => !listed.has(jsonPath(p)));
    if (found.length === 0 && !unlisted) return { structure, records, rejected, unreadable };
    for (const group of found.length > 0 ? groups : []) {
      await withoutUnreadable(group, unreadable, async (readable) => {
        const [row] = await engine.all(`
          select ${found.map((_, i) => `json_structure(to_json(list(e[${i + 1}]))) as s${i}`).join(', ')}
          from (
            select e from (
              select json_extract(json, ${pathList(found.map(jsonPath))}) as e
              from ${objectsReader(readable)}
            )
            where ${found.map((_, i) => `e[${i + 1}] is not null`).join(' or ')}
            limit ${HEAD_RECORDS}
          )`);
        for (const [i, keys] of found.entries()) {
          structure = withStructureAt(structure, keys, elementsOf(row?.[`s${i}`]));
        }
      });
    }
    // A rare key (in no more records than that sample takes) was sampled in every record that
    // holds it: its subtree is known whole, and only objects outside it need another pass.
    const within = (path: readonly string[]) =>
      found.some((keys) => keys.length <= path.length && keys.every((key, i) => path[i] === key));
    const known = (p: string[]) => listed.has(jsonPath(p)) || within(p);
    if (holding <= HEAD_RECORDS && objectPaths(structure, options.maxDepth).every(known)) {
      return { structure, records, rejected, unreadable };
    }
  }
};
