import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import type { FlatColumn } from './flattenPlan.js';
import { type PathNode, walkPaths } from './pathTree.js';
import { sampledRecords } from './sampledRecords.js';
import type { BatchTyping, LeafCounts, LocalObject, RecordShape } from './types.js';

/** Shapes a batch and a run report: the widest few, not every shape a feed has. */
export const WIDEST_SHAPES = 5;

/** Top-level keys a shape names; the rest are counted in `keyCount`. */
const SHOWN_KEYS = 12;

/** The longest key a shape names as it is; a longer one is cut, ending in `…`. */
export const SHAPE_KEY_CHARS = 64;

const shown = (key: string) =>
  key.length > SHAPE_KEY_CHARS ? `${key.slice(0, SHAPE_KEY_CHARS - 1)}…` : key;

/**
 * JSON text and `_variant` values of one column whose leaves a batch counts one by one; past
 * that many, the rest are taken to hold as many as these do on average. Counting every one
 * costs what the batch's COPY does where a feed is mostly JSON text (measured: 12 s beside
 * 19 s on flatten-backlog's 441k rows), and a share needs no more.
 */
export const TEXT_SAMPLE = 2000;

/**
 * The SQL counting the scalars other than null in JSON texts (`values`, a query of a column
 * `v`), by their tokens: strings are
 * folded to one `"` each first, so what is left holds no text a value wrote, and the strings
 * followed by `:` are keys. `json_tree` counts the same but yields a row per node carrying the
 * node's whole subtree as text: a deep record costs its size times its depth, and 2,000 records
 * of MDN's browser-compat data (18 KB, depth 11) ran DuckDB out of 1.9 GiB.
 */
const scalarCount = (values: string) => {
  const matches = (pattern: string) => `len(regexp_extract_all(f, '${pattern}'))`;
  const counted = `length(f) - length(replace(f, '"', '')) - ${matches('"\\s*:')} + ${matches('-?[0-9][0-9.eE+-]*')} + ${matches('true|false')}`;
  return `select coalesce(sum(${counted}), 0) from (select regexp_replace(v::varchar, '"(?:[^"\\\\]|\\\\.)*"', '"', 'g') as f from (${values}))`;
};

/**
 * Rows of a dataset's Parquet read once for the leaves of all its text columns. Each query of a
 * Parquet file binds all its columns: 17 JSON columns of the webhooks' 2,947 cost 300–400 ms
 * counted one query each, 30–50 ms from one read.
 */
export const TEXT_ROWS = 10 * TEXT_SAMPLE;

/**
 * The leaves in the first {@link TEXT_SAMPLE} values of each text column (`text`: name → its
 * non-null values), counted from its first {@link TEXT_ROWS} rows, read once for all of them;
 * a column with fewer of its first values there (sparse in a long batch) is counted from the
 * files on its own, as if it were the only one.
 */
const textLeaves = async (
  engine: DuckDbEngine,
  list: string,
  text: ReadonlyMap<string, number>
): Promise<Map<string, number>> => {
  const names = [...text.keys()];
  const columns = names.map(quoteIdentifier);
  const first = (column: string, from: string) =>
    `select ${column} as v from ${from} where ${column} is not null limit ${TEXT_SAMPLE}`;
  const [row] = await engine.all(
    `with head as materialized (select ${columns.join(', ')} from read_parquet(${list}, union_by_name = true) limit ${TEXT_ROWS})
     select ${columns.map((column, i) => `(${scalarCount(first(column, 'head'))}) as c${i}, (select count(${column}) from head) as n${i}`).join(', ')}`
  );
  const found = new Map<string, number>();
  const rest: number[] = [];
  for (const [i, name] of names.entries()) {
    const held = Number(row?.[`n${i}`] ?? 0);
    if (held < Math.min(text.get(name) ?? 0, TEXT_SAMPLE)) rest.push(i);
    else found.set(name, Number(row?.[`c${i}`] ?? 0));
  }
  if (rest.length === 0) return found;
  const [alone] = await engine.all(
    `select ${rest
      .map((i) => {
        const from = `read_parquet(${list}, union_by_name = true)`;
        return `(${scalarCount(first(columns[i] as string, from))}) as c${i}`;
      })
      .join(', ')}`
  );
  for (const i of rest) found.set(names[i] as string, Number(alone?.[`c${i}`] ?? 0));
  return found;
};

/** Each Parquet file's non-null values by column chunk path (`a, b` for a nested one). */
type Footers = ReadonlyMap<string, ReadonlyMap<string, number>>;

/**
 * The non-null values of every column chunk of Parquet files, from their footers, in one query:
 * a query per dataset cost a batch of 41 child tables some 40–80 ms.
 */
const footerValues = async (engine: DuckDbEngine, files: readonly string[]): Promise<Footers> => {
  const footers = new Map<string, Map<string, number>>();
  if (files.length === 0) return footers;
  const rows = await engine.all(
    `select file_name as file, path_in_schema as path, sum(num_values - coalesce(stats_null_count, num_values))::bigint as n
     from parquet_metadata([${files.map(quoteLiteral).join(', ')}]) group by 1, 2`
  );
  for (const { file, path, n } of rows) {
    const paths = footers.get(String(file)) ?? new Map<string, number>();
    paths.set(String(path), Number(n));
    footers.set(String(file), paths);
  }
  return footers;
};

/** Leaves a dataset's Parquet holds, by where they are, and whether JSON's were extrapolated. */
type DatasetLeaves = Omit<LeafCounts, 'child'> & { estimated: boolean };

const NONE: DatasetLeaves = { typed: 0, json: 0, variant: 0, estimated: false };

/**
 * Where the leaves of one dataset's Parquet are. Typed columns' (a LIST's or a MAP's non-null
 * elements too) come from the files' footers, which DuckDB writes with a value and a null count
 * for every column chunk, so no row is read for them. JSON text and `_variant` hold a leaf per
 * scalar inside each value: the footers count the non-null values, and the leaves of the
 * first {@link TEXT_SAMPLE} of each column are counted ({@link scalarCount}), all of them when there
 * are no more, else scaled to the column's values. Lineage and a map entry's `_key` hold no
 * leaf of the input.
 *
 * @param engine - DuckDB
 * @param files - the dataset's Parquet parts on local disk
 * @param columns - its columns as the batch planned them
 * @param footers - its files' footers, read with other datasets' ({@link batchTyping})
 */
export const datasetLeaves = async (
  engine: DuckDbEngine,
  files: readonly string[],
  columns: readonly FlatColumn[],
  footers?: Footers
): Promise<DatasetLeaves> => {
  if (files.length === 0) return NONE;
  const list = `[${files.map(quoteLiteral).join(', ')}]`;
  const types = new Map(columns.map((column) => [column.name, column.type]));
  const counts = { ...NONE };
  const read = footers ?? (await footerValues(engine, files));
  const chunks = new Map<string, number>();
  for (const file of files) {
    for (const [path, n] of read.get(file) ?? []) chunks.set(path, (chunks.get(path) ?? 0) + n);
  }
  /** JSON columns and `_variant`, with their non-null values. */
  const text = new Map<string, number>();
  for (const [path, n] of chunks) {
    const parts = path.split(', ');
    const name = parts[0] ?? '';
    if (name === '_variant' || types.get(name) === 'JSON') {
      if (n > 0) text.set(name, n);
      continue;
    }
    // A MAP's keys (`m, key_value, key`) were the object's keys; its values are the leaves. A
    // column named `key` holds leaves.
    if (name === '_key' || !types.has(name) || (parts.length > 1 && parts.at(-1) === 'key'))
      continue;
    counts.typed += n;
  }
  if (text.size === 0) return counts;
  const found = await textLeaves(engine, list, text);
  for (const [name, values] of text) {
    const sampled = Math.min(values, TEXT_SAMPLE);
    counts[name === '_variant' ? 'variant' : 'json'] += Math.round(
      ((found.get(name) ?? 0) * values) / sampled
    );
    if (values > sampled) counts.estimated = true;
  }
  return counts;
};

/**
 * A batch's typing: where the leaves of the Parquet it wrote are (the feed's, then each child
 * table's, {@link datasetLeaves}) and its widest sampled shapes ({@link widestShapes}).
 *
 * @param engine - DuckDB
 * @param objects - the batch's staged objects
 * @param datasets - the feed's parts and columns first, then each child table's
 */
export const batchTyping = async (
  engine: DuckDbEngine,
  objects: readonly LocalObject[],
  datasets: readonly { files: readonly string[]; columns: readonly FlatColumn[] }[]
): Promise<BatchTyping> => {
  const leaves: LeafCounts = { typed: 0, child: 0, json: 0, variant: 0 };
  let estimated = false;
  const footers = await footerValues(
    engine,
    datasets.flatMap(({ files }) => files)
  );
  for (const [i, { files, columns }] of datasets.entries()) {
    const found = await datasetLeaves(engine, files, columns, footers);
    leaves[i === 0 ? 'typed' : 'child'] += found.typed;
    leaves.json += found.json;
    leaves.variant += found.variant;
    estimated ||= found.estimated;
  }
  return { leaves, ...(estimated ? { estimated } : {}), widest: widestShapes(objects) };
};

/** Non-null scalar leaves of a record, counting in `seen` the leaf paths first met here. */
const walkLeaves = (record: unknown, node: PathNode, seen: { leafPaths: number }): number => {
  let leaves = 0;
  walkPaths(record, node, (first) => {
    leaves++;
    if (first) seen.leafPaths++;
    return false;
  });
  return leaves;
};

/**
 * The widest record shapes among the lines a batch sampled (a shape is a record's set of
 * top-level keys; its width the distinct leaf paths its sampled records hold), widest first.
 * Staging kept about a thousand lines of the batch's JSON Lines files; parsing them costs the
 * batch milliseconds and its rows nothing. A JSON array file has no sampled lines.
 *
 * @param objects - the batch's staged objects
 */
export const widestShapes = (objects: readonly LocalObject[]): RecordShape[] => {
  const shapes = new Map<string, RecordShape & { paths: PathNode }>();
  for (const { object, record } of sampledRecords(objects)) {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) continue;
    const keys = Object.keys(record).sort();
    const id = JSON.stringify(keys);
    const shape = shapes.get(id) ?? {
      keys: keys.slice(0, SHOWN_KEYS).map(shown),
      keyCount: keys.length,
      leafPaths: 0,
      leaves: 0,
      sampled: 0,
      example: object.key,
      paths: {},
    };
    shape.leaves = Math.max(shape.leaves, walkLeaves(record, shape.paths, shape));
    shape.sampled++;
    shapes.set(id, shape);
  }
  return widest([...shapes.values()].map(({ paths: _, ...shape }) => shape));
};

/** The widest {@link WIDEST_SHAPES} of `shapes`, by leaf paths, then leaves, then keys. */
const widest = (shapes: RecordShape[]) =>
  shapes
    .sort(
      (a, b) =>
        b.leafPaths - a.leafPaths ||
        b.leaves - a.leaves ||
        JSON.stringify(a.keys).localeCompare(JSON.stringify(b.keys))
    )
    .slice(0, WIDEST_SHAPES);

/** How typed a feed's data landed over a run: what Reconcile writes as `typing.json`. */
export interface TypingReport {
  feed: string;
  runId: string;
  /** Succeeded batches whose counts are in (a batch committed before they were kept has none). */
  batches: number;
  /** Non-null scalar leaves by where they landed, and all of them. */
  leaves: LeafCounts & { total: number };
  /** Whether `leaves.json` and `leaves.variant` are partly extrapolated ({@link TEXT_SAMPLE}). */
  estimated: boolean;
  /** Each place's share of `leaves.total` (0 to 1), and typed + child as `typedOrChild`. */
  shares: LeafCounts & { typedOrChild: number };
  /** The widest record shapes the batches sampled, widest first. */
  widestShapes: RecordShape[];
}

/**
 * Sums batches' typing into a run's: leaves by place and their shares, and the widest shapes
 * (one shape seen by several batches counts its widest sample and all its sampled records).
 *
 * @param run - the feed and run
 * @param batches - the succeeded batches' typing, where they kept it
 */
export const typingReport = (
  run: { feed: string; runId: string },
  batches: readonly (BatchTyping | undefined)[]
): TypingReport => {
  const leaves: LeafCounts = { typed: 0, child: 0, json: 0, variant: 0 };
  const shapes = new Map<string, RecordShape>();
  let counted = 0;
  let estimated = false;
  for (const typing of batches) {
    if (!typing) continue;
    counted++;
    estimated ||= typing.estimated === true;
    for (const place of ['typed', 'child', 'json', 'variant'] as const) {
      leaves[place] += typing.leaves[place];
    }
    for (const shape of typing.widest) {
      const id = JSON.stringify([shape.keys, shape.keyCount]);
      const seen = shapes.get(id);
      shapes.set(
        id,
        seen
          ? {
              ...seen,
              leafPaths: Math.max(seen.leafPaths, shape.leafPaths),
              leaves: Math.max(seen.leaves, shape.leaves),
              sampled: seen.sampled + shape.sampled,
            }
          : shape
      );
    }
  }
  const total = leaves.typed + leaves.child + leaves.json + leaves.variant;
  const share = (n: number) => (total === 0 ? 0 : n / total);
  return {
    ...run,
    batches: counted,
    leaves: { ...leaves, total },
    estimated,
    shares: {
      typed: share(leaves.typed),
      child: share(leaves.child),
      json: share(leaves.json),
      variant: share(leaves.variant),
      typedOrChild: share(leaves.typed + leaves.child),
    },
    widestShapes: widest([...shapes.values()]),
  };
};
