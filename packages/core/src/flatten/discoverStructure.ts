import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import {
  type JsonStructure,
  jsonPath,
  mergeStructures,
  objectPaths,
  structureAt,
  withStructureAt,
} from './structure.js';

/** Files DuckDB reads together: JSON Lines, or one JSON array of records per file. */
export interface FileGroup {
  format: 'newline_delimited' | 'array';
  paths: string[];
}

export interface DiscoveredStructure {
  structure: JsonStructure;
  /** Records DuckDB found per file path (malformed JSON lines are not counted: compare counts). */
  records: Map<string, number>;
  /** Files DuckDB could not read as their group's format at all (a broken array…). */
  unreadable: Set<string>;
}

/** Records whose structure seeds the types: cheap, and most batches' shape shows in them. */
const HEAD_RECORDS = 1000;
/** Then one record in this many, across the batch, for types that drift later in it. */
const STRIDE = 64;

const pathList = (paths: readonly string[]) => `[${paths.map(quoteLiteral).join(', ')}]`;

/** The records of a group as JSON, one row each, with their file. */
export const objectsReader = (group: FileGroup): string =>
  group.format === 'array'
    ? `read_json_objects(${pathList(group.paths)}, format = 'array', filename = true)`
    : `read_ndjson_objects(${pathList(group.paths)}, filename = true, ignore_errors = true)`;

/** The file a DuckDB read error names, if it is one of `paths`. */
export const fileNamedIn = (error: unknown, paths: readonly string[]): string | undefined => {
  const message = error instanceof Error ? error.message : String(error);
  return paths.find((path) => message.includes(`"${path}"`) || message.includes(`'${path}'`));
};

/**
 * Runs `work` over a group; a file DuckDB cannot read as the group's format is taken out and
 * reported, and the rest is read again.
 */
const withoutUnreadable = async <T>(
  group: FileGroup,
  unreadable: Set<string>,
  work: (group: FileGroup) => Promise<T>
): Promise<T | undefined> => {
  let paths = group.paths.filter((path) => !unreadable.has(path));
  while (paths.length > 0) {
    try {
      return await work({ ...group, paths });
    } catch (error) {
      const bad = fileNamedIn(error, paths);
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

/**
 * Finds every key of a batch's records down to `maxDepth`, and types good enough to read them
 * with: no key is missed, because every record's keys at every known object are listed.
 *
 * 1. Types come from the registry, the first records, and a stride sample of the rest.
 * 2. One pass lists the keys of every object the structure knows (`json_keys`, one parse per
 *    record) and counts records per file.
 * 3. Keys that pass found beyond the sample get their whole subtree's structure from one more
 *    pass over the records, which only batches with such drift pay for.
 *
 * Where a value's type differs from the one planned, nothing is lost later: scalars are read as
 * text and a misfit is parked in `_variant`; an object where a scalar was planned is kept as its
 * JSON text; a scalar where an object was planned makes DuckDB's reader fail for that file, which
 * then takes the slow path.
 *
 * @param engine - the engine
 * @param groups - the batch's files
 * @param options - the flattening depth and the structure the feed's registry already knows
 */
export const discoverStructure = async (
  engine: DuckDbEngine,
  groups: readonly FileGroup[],
  options: { maxDepth: number; known: JsonStructure }
): Promise<DiscoveredStructure> => {
  const unreadable = new Set<string>();
  let structure = options.known;
  for (const group of groups) {
    await withoutUnreadable(group, unreadable, async (readable) => {
      const [head] = await engine.all(
        `select json_structure(to_json(list(json))) as s from (select json from ${objectsReader(readable)} limit ${HEAD_RECORDS})`
      );
      structure = mergeStructures(structure, elementsOf(head?.s));
    });
  }

  // Each pass lists every record's keys at every object the structure knows; keys it finds
  // beyond the samples get their subtree's structure from a sample of the records holding them,
  // and the pass runs again to look inside those subtrees. It ends when a pass finds nothing
  // new, which takes one pass unless the samples missed drift, and at most one per level.
  for (;;) {
    const records = new Map<string, number>();
    const found: string[][] = [];
    const checked = objectPaths(structure, options.maxDepth);
    for (const group of groups) {
      const paths = checked;
      const rows =
        (await withoutUnreadable(group, unreadable, (readable) =>
          engine.all(`
            select filename, any_value(keys) as keys, count(json) as n,
              json_structure(to_json(list(json) filter (where rn % ${STRIDE} = 0))) as s
            from (
              select filename, json, json_keys(json, ${pathList(paths.map(jsonPath))}) as keys,
                row_number() over () as rn
              from ${objectsReader(readable)}
            )
            group by filename, hash(keys)`)
        )) ?? [];
      // The stride sample first: keys it saw get their types from it, not from another pass.
      for (const row of rows) {
        if (row.s !== null) structure = mergeStructures(structure, elementsOf(row.s));
      }
      for (const row of rows) {
        const file = String(row.filename);
        records.set(file, (records.get(file) ?? 0) + Number(row.n));
        for (const [i, keys] of ((row.keys ?? []) as (string[] | null)[]).entries()) {
          const at = paths[i] ?? [];
          const known = structureAt(structure, at);
          for (const key of keys ?? []) {
            const path = [...at, key];
            const isKnown = known !== undefined && structureAt(known, [key]) !== undefined;
            if (!isKnown && !found.some((p) => jsonPath(p) === jsonPath(path))) found.push(path);
          }
        }
      }
    }
    // Objects only the stride sample showed have had their keys sampled, not listed: one more pass.
    const listed = new Set(checked.map(jsonPath));
    const unlisted = objectPaths(structure, options.maxDepth).some((p) => !listed.has(jsonPath(p)));
    if (found.length === 0 && !unlisted) return { structure, records, unreadable };
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
  }
};
