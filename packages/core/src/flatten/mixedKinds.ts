import { quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { TerminalError } from '../errors/index.js';
import { DATA_ERROR, maximumObjectSize } from './constants.js';
import { distinctValues } from './distinctValues.js';
import type { DuckType } from './duckType.js';
import { clash } from './mapShapes.js';
import { isObject, type JsonStructure, jsonPath, mergeStructures, quoteKey } from './structure.js';

/*
 * DuckDB's inference reads a path whose values are of several kinds as `JSON`, whatever they
 * are: npm's `repository` (a string, or `{type, url}`) tells nothing of its objects' fields,
 * and they stayed JSON text. Where the sample shows objects or arrays at such a path, one query
 * over the batch finds the distinct structures of all of them (`json_structure`, grouped for
 * every path at once: `distinctValues`), merged in Node, and the path is typed kind by kind, as
 * a batch typed in Node types it (`mixed`).
 */

/** Keys past which an object at such a path stays JSON: DuckDB's map inference's threshold. */
const MIXED_OBJECT_KEYS = 200;

type Struct = Extract<DuckType, { kind: 'struct' }>;

const JSON_TYPE: DuckType = { kind: 'scalar', name: 'JSON' };

/** The feed's own paths (through objects, not arrays or maps) the inference read as `JSON`. */
const jsonPaths = (record: Struct, depthCap: number): string[][] => {
  const paths: string[][] = [];
  const walk = (type: DuckType, keys: string[]) => {
    if (keys.length >= depthCap) return;
    if (type.kind === 'scalar' && type.name === 'JSON') paths.push(keys);
    if (type.kind === 'struct') for (const [key, t] of type.fields) walk(t, [...keys, key]);
  };
  for (const [key, type] of record.fields) walk(type, [key]);
  return paths;
};

/** The value at `keys` in a parsed record (an own key only: keys are data). */
const valueAt = (record: unknown, keys: readonly string[]): unknown => {
  let value = record;
  for (const key of keys) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
};

/**
 * The type a merged structure is read as: text and booleans natively, numbers (which may pass
 * BIGINT) and kinds that met as JSON, split per value; none where an object is too wide or
 * holds keys DuckDB cannot name apart.
 */
const typeOfStructure = (node: JsonStructure): DuckType | undefined => {
  if (typeof node === 'string')
    return node === 'VARCHAR' || node === 'BOOLEAN' ? { kind: 'scalar', name: node } : JSON_TYPE;
  if (Array.isArray(node)) {
    const element = node[0] === undefined ? JSON_TYPE : typeOfStructure(node[0]);
    return element && { kind: 'list', element };
  }
  const keys = Object.keys(node);
  // An object only ever empty is kept whole.
  if (keys.length === 0) return JSON_TYPE;
  if (keys.length > MIXED_OBJECT_KEYS || clash(keys)) return undefined;
  const fields: [string, DuckType][] = [];
  for (const key of keys) {
    const type = typeOfStructure(node[key] as JsonStructure);
    if (!type) return undefined;
    fields.push([key, type]);
  }
  return { kind: 'struct', fields };
};

/**
 * The kinds one path's values took, from their distinct structures: their objects' and arrays'
 * merged, and whether it holds scalars (a scalar's structure is its type's name).
 */
const mixedType = (structures: readonly string[]): DuckType | undefined => {
  const parsed = structures.map((text) => JSON.parse(text) as JsonStructure);
  const scalars = parsed.some((node) => typeof node === 'string' && node !== 'NULL');
  const merged = (nodes: JsonStructure[]) =>
    nodes.length > 0 ? typeOfStructure(nodes.reduce(mergeStructures)) : undefined;
  const objects = parsed.filter((node) => isObject(node));
  const arrays = parsed.filter((node) => Array.isArray(node));
  // Values all objects (a map DuckDB could not merge) or all arrays are no mix of kinds.
  if (Number(objects.length > 0) + Number(arrays.length > 0) + Number(scalars) < 2) return;
  const object = merged(objects);
  const array = merged(arrays);
  if ((objects.length > 0 && object?.kind !== 'struct') || (arrays.length > 0 && !array)) return;
  return {
    kind: 'mixed',
    ...(object?.kind === 'struct' ? { object: { kind: 'keyed', fields: object.fields } } : {}),
    ...(array ? { array } : {}),
    scalars,
  };
};

/** `record` with the type at `keys` (through STRUCTs) replaced. */
const replaceAt = (type: DuckType, keys: readonly string[], by: DuckType): DuckType => {
  const [key, ...rest] = keys;
  if (key === undefined) return by;
  if (type.kind !== 'struct') return type;
  return {
    kind: 'struct',
    fields: type.fields.map(([k, t]): [string, DuckType] => [
      k,
      k === key ? replaceAt(t, rest, by) : t,
    ]),
  };
};

/**
 * `record` (DuckDB's inference over every record) with the feed's paths of several kinds
 * typed kind by kind where the sample shows objects or arrays there: their objects' fields
 * become columns, their arrays of objects child tables (`inferredPlan`'s `mixed`). A path
 * whose objects hold more than 200 keys, or keys that differ only in case, or are only ever
 * empty, stays JSON, split per kind.
 *
 * @param engine - the engine
 * @param read - the batch's files (a SQL list) and its longest record
 * @param record - the inferred record type
 * @param sample - the sampled records
 * @param depthCap - the feed's `max_depth`, when configured: deeper paths stay JSON
 */
export const withMixedKinds = async (
  engine: DuckDbEngine,
  read: { files: string; longest: number },
  record: Struct,
  sample: readonly unknown[],
  depthCap = Number.POSITIVE_INFINITY
): Promise<Struct> => {
  const paths = jsonPaths(record, depthCap).filter((keys) =>
    sample.some((r) => {
      const value = valueAt(r, keys);
      return value !== null && typeof value === 'object';
    })
  );
  if (paths.length === 0) return record;
  const value = ([top, ...rest]: readonly string[]) =>
    rest.length
      ? `json_extract(${quoteKey(top as string)}, ${quoteLiteral(jsonPath(rest))})`
      : quoteKey(top as string);
  // One JSON function a path: its scalars' structures are their types' names, a few at most.
  const values = paths.map((keys) => `json_structure(${value(keys)})::varchar`);
  const tops = [...new Set(paths.map((keys) => keys[0] as string))];
  const columns = `{${tops.map((key) => `${quoteLiteral(key)}: 'JSON'`).join(', ')}}`;
  const found = await distinctValues(
    engine,
    `read_json(${read.files}, format = 'newline_delimited', records = true, columns = ${columns}, ${maximumObjectSize(read.longest)})`,
    values
  ).catch((error: unknown) => {
    // The paths stay JSON, split per kind, as before: nothing is lost.
    if (error instanceof TerminalError && /^out of memory/.test(error.message)) return [];
    if (DATA_ERROR.test(error instanceof Error ? error.message : String(error))) return [];
    throw error;
  });
  let typed: DuckType = record;
  for (const [n, structures] of found.entries()) {
    const type = mixedType(structures);
    if (type) typed = replaceAt(typed, paths[n] as string[], type);
  }
  return typed as Struct;
};
