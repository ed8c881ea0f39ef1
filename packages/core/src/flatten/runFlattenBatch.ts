import { rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import {
  type FeedConfig,
  feedSchema,
  parseOrThrow,
  quoteIdentifier,
  quoteLiteral,
} from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import { eachLimited } from '../lake/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import { type ChildTable, childTable, type ExplodedArray, explodedArrays } from './childTables.js';
import {
  discoverStructure,
  type FileGroup,
  fileNamedIn,
  sampleStructure,
} from './discoverStructure.js';
import {
  type ColumnAccess,
  type FlatColumn,
  flattenPlan,
  flattenSelect,
  jsonAccess,
  normalise,
  structAccess,
} from './flattenPlan.js';
import { downloadLineRange, rangeKey, rangesOf } from './lineRange.js';
import { loadRecords } from './loadRecords.js';
import {
  inspectRawObject,
  maskLines,
  type RawObjectInfo,
  type Rejection,
  rejectionOf,
} from './rawObject.js';
import {
  isObject,
  type JsonStructure,
  jsonPath,
  leafPaths,
  pathKeys,
  type ReadShape,
  readJsonColumns,
  readShape,
  structureAt,
  withStructureAt,
} from './structure.js';
import { witnessedRead, witnessHolds, writeWitness } from './witnessRead.js';

/** One Distributed Map item: a planned batch of raw objects of one feed. */
export const flattenBatchInputSchema = z.object({
  feed: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  batchId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$/),
  objects: z.array(
    z
      .object({
        key: z.string().min(1),
        size: z.number().int().min(0),
        /** Bytes `[start, end)` of an object too large for one batch: the lines that start there. */
        range: z.tuple([z.number().int().min(0), z.number().int().min(1)]).optional(),
        /** The plan's range length: the object's ranges are `[k × step, (k + 1) × step)`. */
        step: z.number().int().min(1).optional(),
      })
      .refine((o) => !o.range || (o.step && o.range[0] < o.range[1] && o.range[1] <= o.size), {
        message: 'a range needs its step, and lies inside the object',
      })
  ),
  /** The run's copy of the feed's schema registry (from plan-backlog); none: plan from scratch. */
  registryKey: z.string().min(1).optional(),
});

export type FlattenBatchInput = z.input<typeof flattenBatchInputSchema>;

export interface FlattenBatchOptions {
  /** Joins nested keys into column names: `user_address_city`. */
  separator: string;
  /** Objects nested deeper than this stay one JSON column. */
  maxDepth: number;
  /** Top-level fields promoted to partition keys: a date and a mode. */
  partition: { date: string; mode: string };
  /** Keep raw objects where they are instead of moving them to raw-processed/. */
  leaveInPlace: boolean;
  /** Arrays written as child tables, by their keys from the record's top ({@link explodedArrays}). */
  explode?: readonly (readonly string[])[];
  /** `always`: list every record's keys before writing, not only when one read cannot do. */
  keyPass?: FeedConfig['key_pass'];
}

/**
 * A feed's configuration as runFlattenBatch takes it; a feed with none gets the defaults.
 *
 * @param feed - the feed's entry under `feeds` in the configuration
 */
export const flattenOptionsOf = (feed: FeedConfig = feedSchema.parse({})): FlattenBatchOptions => ({
  separator: feed.separator,
  maxDepth: feed.max_depth,
  partition: feed.partition,
  leaveInPlace: feed.leave_in_place,
  explode: feed.explode.map((path) => path.split('.')),
  keyPass: feed.key_pass,
});

export interface FlattenBatchDeps {
  store: ObjectStore;
  engine: DuckDbEngine;
  ledger: Ledger;
  options: FlattenBatchOptions;
  now?: () => Date;
}

export interface FlattenBatchResult {
  feed: string;
  batchId: string;
  /** Objects this batch processed, and those another batch already owns or finished. */
  objects: number;
  skipped: number;
  /** recordsRead = rowsWritten + recordsQuarantined, checked before anything is marked done. */
  recordsRead: number;
  rowsWritten: number;
  recordsQuarantined: number;
  outputs: string[];
  schemaKey: string;
  /** The child tables exploded arrays went to, each with its own rows, parts and schema. */
  children: { dataset: string; rowsWritten: number; outputs: string[]; schemaKey: string }[];
  /**
   * Whether the batch listed its JSON Lines records' keys before it wrote them (the keys of a
   * file that is one JSON array always are): its sample missed a key or a type, a file went
   * line by line, or the feed asks for it. A feed where most batches do reads its data twice.
   */
  keyPass: boolean;
}

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';
/** Lines of each JSON Lines file, and lines spread over the batch, that seed its structure. */
const SAMPLE_HEAD = 10;
const SAMPLE_SPREAD = 1000;
const NEWLINE = Buffer.from('\n');
/**
 * The most one gzip object may inflate to: FlattenBatch has 10 GB of /tmp (stacks/backfill.ts),
 * which the inflated file shares with its masked copy, DuckDB's spill and the Parquet output.
 */
const MAX_INFLATED_BYTES = 4 * 1024 ** 3;
/** DuckDB's errors about the data it read, which the key pass finds out about and handles. */
const DATA_ERROR = /^(Invalid Input|Conversion) Error/;
/** Requests to S3 and the ledger in flight at once: a batch holds up to thousands of objects. */
const IO_CONCURRENCY = 16;
/** Columns every silver row gets besides the record's own; a record field of the same name is renamed. */
const PARTITION_KEYS = ['year', 'month', 'day', 'mode'] as const;
const LINEAGE = ['_variant', '_source_key', '_source_line', '_batch_id'] as const;
/** How a batch's fields (and its exploded arrays' elements) plan into columns. */
const planOptionsOf = (options: FlattenBatchOptions) => ({
  ...options,
  reserved: [...PARTITION_KEYS, ...LINEAGE],
});

/** Where a feed's flattened output, quarantine and schemas live. */
export const FlattenLayout = {
  silverPrefix: (feed: string) => `silver/${feed}/`,
  /** DuckDB names the partition folders; the file name is the batch's, so a retry overwrites it. */
  silverFilePattern: (batchId: string) => `part-${batchId}-{i}`,
  quarantineRecords: (feed: string, batchId: string) =>
    `quarantine/${feed}/batch=${batchId}/records.jsonl`,
  quarantineFile: (feed: string, batchId: string, key: string) =>
    `quarantine/${feed}/batch=${batchId}/files/${key.slice(key.lastIndexOf('/') + 1)}`,
  schemaFragment: (feed: string, batchId: string) => `_schemas/${feed}/fragments/${batchId}.json`,
  /** The feed's registry: the merged columns every finished run has written. */
  schema: (feed: string) => `_schemas/${feed}/schema.json`,
  processed: (key: string) => `raw-processed/${key.slice('raw/'.length)}`,
} as const;

/** One object of the batch on local disk, and how it will be read. */
interface LocalObject {
  /** Its ledger and lineage key: the object's, or for a range `<key>#bytes=<start>-<end>`. */
  key: string;
  /** The object in the lake. */
  object: string;
  /** Where it was read from: its key, or its copy in raw-processed/ when a retry finds it moved. */
  source: string;
  size: number;
  index: number;
  info: RawObjectInfo;
  /** `fast`: DuckDB's JSON reader in one pass; `slow`: line by line ({@link loadRecords}). */
  path: 'fast' | 'slow' | 'none';
  /** The file the fast reader takes: the plain file, or its copy with rejected lines masked. */
  read: string;
  /** Lines of `read` masked as `{}` ({@link maskLines}), which the batch leaves out. */
  masked: number[];
  records: number;
  rejected: number;
  error?: string;
}

/** What a batch wrote: its columns, and the child tables its exploded arrays went to. */
interface Written {
  columns: FlatColumn[];
  children: { table: ChildTable; elements: number }[];
}

/**
 * How the fast path reads records planned as `columns` and `arrays`: JSON columns and exploded
 * arrays as JSON, `asJson` too, every other scalar as text.
 */
const readShapeOf = (
  structure: JsonStructure,
  columns: readonly FlatColumn[],
  arrays: readonly ExplodedArray[],
  maxDepth: number,
  asJson: ReadonlySet<string> = new Set()
) =>
  readShape(
    structure,
    maxDepth,
    new Set([
      ...columns.filter((column) => column.type === 'JSON').map((column) => column.path),
      ...arrays.map((array) => array.path),
      ...asJson,
    ])
  );

/** Whether records have a top-level field DuckDB would take for `name` (its names ignore case). */
const hasField = (structure: JsonStructure, name: string) =>
  isObject(structure) &&
  Object.keys(structure).some((key) => key.toLowerCase() === name.toLowerCase());

/** The registry's columns as a structure (their types are leaf types too), to seed the batch's. */
const structureOf = (columns: readonly FlatColumn[]): JsonStructure =>
  columns.reduce<JsonStructure>(
    (structure, column) => withStructureAt(structure, pathKeys(column.path), column.type),
    {}
  );

/**
 * The batch's columns: a column the registry knows keeps its registered name and type (values
 * that do not fit go to `_variant`), so a column never changes type under readers; new columns
 * take names the registry does not use.
 */
const withRegistry = (
  planned: readonly FlatColumn[],
  registry: readonly FlatColumn[],
  separator: string
): FlatColumn[] => {
  const byPath = new Map(registry.map((column) => [column.path, column]));
  const taken = new Set(registry.map((column) => column.name));
  return planned.map((column) => {
    const known = byPath.get(column.path);
    if (known) return known;
    let name = column.name;
    for (let n = 2; taken.has(name); n++) name = `${column.name}${separator}${n}`;
    taken.add(name);
    return { ...column, name };
  });
};

/**
 * Flattens one planned batch of raw nested-JSON objects into partitioned silver Parquet.
 *
 * Objects another batch owns or already finished are skipped (the ledger decides); the batch's
 * own, including ones it marked done before a crash, are processed again so a retry rewrites the
 * same deterministic files. An item may be a byte range of a JSON Lines object: its lines are
 * read ({@link downloadLineRange}) and kept in the ledger and lineage as `<key>#bytes=<range>`.
 *
 * Reading is one pass of DuckDB's JSON reader over all clean files, with the columns Strata
 * planned from the registry and a sample; the reader, its columns detected from a witness,
 * fails rather than drop a key the plan lacks ({@link witnessedRead}). When it fails, or a value
 * does not fit a column the sample typed, the batch lists every record's keys and kinds
 * ({@link discoverStructure}) and reads again, so no field is dropped. Lines that hold no record
 * are masked out of the read, and files the reader cannot take whole (a blank line between
 * records, a key twice, a scalar where objects were seen) go line by line instead; what is not
 * a JSON object goes to quarantine with its file, line and reason. Records read must equal rows
 * written plus records quarantined before the ledger marks anything SUCCEEDED, and only then are
 * raw objects (an object in ranges: once all its ranges are done) moved to raw-processed/.
 *
 * @param raw - the map item
 * @param deps - lake, engine, ledger and the feed's flatten options
 */
export const runFlattenBatch = async (
  raw: FlattenBatchInput,
  deps: FlattenBatchDeps
): Promise<FlattenBatchResult> => {
  const input = parseOrThrow(flattenBatchInputSchema, raw, 'flatten-batch input');
  const { feed, batchId } = input;
  const { engine, store, options } = deps;
  const now = deps.now ?? (() => new Date());
  // A range of an object is an item of its own in the ledger and in lineage.
  const items = input.objects.map((object) => ({
    ...object,
    id: object.range ? rangeKey(object.key, object.range) : object.key,
  }));

  const entries = await deps.ledger.getMany(items.map((item) => item.id));
  /** Items this batch already finished: a retry reads them from raw-processed/ if moved. */
  const finished = new Set<string>();
  /** Whether the item is this batch's: claimed now, or finished by an attempt this one retries. */
  const claim = async (item: (typeof items)[number]) => {
    const entry = entries.get(item.id);
    if (entry?.batchId === batchId && entry.status === 'SUCCEEDED') {
      finished.add(item.id);
      return true;
    }
    return deps.ledger.claim(item.id, batchId, now());
  };

  const stored = input.registryKey ? await store.get(input.registryKey) : undefined;
  const registry: FlatColumn[] = stored
    ? (JSON.parse(new TextDecoder().decode(stored)) as { columns: FlatColumn[] }).columns
    : [];

  return Workspace.use('flatten-batch', async (ws) => {
    const claimed = new Array<LocalObject | undefined>(items.length);
    // About a thousand records spread over the batch as planned (so a retry samples the same
    // lines), and each file's first few.
    const sample = {
      head: SAMPLE_HEAD,
      everyBytes: items.reduce((total, o) => total + o.size, 0) / SAMPLE_SPREAD,
      spread: SAMPLE_SPREAD,
    };
    // Each object is downloaded as soon as it is claimed.
    await eachLimited(items, IO_CONCURRENCY, async (object, index) => {
      if (!(await claim(object))) return;
      const local = ws.path(`object-${index}`);
      let source = object.key;
      const download = () => {
        const { range, size } = object;
        return range
          ? downloadLineRange(store, { key: source, size, range }, local)
          : store.download(source, local);
      };
      await download().catch((error: unknown) => {
        if (!finished.has(object.id)) throw error;
        source = FlattenLayout.processed(object.key);
        return download();
      });
      const info = await inspectRawObject(local, {
        gzip: object.key.endsWith('.gz'),
        plain: ws.path(`object-${index}.json`),
        maxPlainBytes: MAX_INFLATED_BYTES,
        sample,
      });
      // /tmp holds the batch: once inflated, the gzip is no longer read (quarantine and the
      // move to raw-processed/ copy the object in S3).
      if (info.path !== local) await rm(local);
      const fast = info.layout === 'array' || (info.layout === 'lines' && !info.innerBlankLines);
      claimed[index] = {
        key: object.id,
        object: object.key,
        source,
        size: object.size,
        index,
        info,
        path:
          info.layout === 'empty' || info.layout === 'unreadable' ? 'none' : fast ? 'fast' : 'slow',
        read: info.path,
        masked: [],
        records: 0,
        rejected: 0,
        ...(info.error ? { error: info.error } : {}),
      };
    });
    // Plan order, whatever order the claims came back in: output names and rows depend on it.
    const objects = claimed.filter((object) => object !== undefined);
    const group = (format: FileGroup['format']): FileGroup => {
      const members = objects.filter(
        (o) => o.path === 'fast' && (o.info.layout === 'array') === (format === 'array')
      );
      return {
        format,
        paths: members.map((o) => o.read),
        ...(format === 'newline_delimited'
          ? { records: members.reduce((total, o) => total + o.info.lines, 0) }
          : {}),
      };
    };
    const sampled = ws.path('sample.jsonl');
    await writeFile(
      sampled,
      Buffer.concat(objects.flatMap((o) => o.info.sample.flatMap((line) => [line, NEWLINE])))
    );
    const lineFiles = { ...group('newline_delimited'), sample: sampled };
    const arrayFiles = group('array');
    const fastGroups = () =>
      (['newline_delimited', 'array'] as const).map(group).filter((g) => g.paths.length > 0);
    await engine.run(
      'create or replace temp table slow_records (source_key varchar, line_no bigint, record json); create or replace temp table slow_rejected (source_key varchar, line_no bigint, text varchar, reason varchar)'
    );
    /** Copies a file with its lines that hold no record masked, which go to quarantine. */
    const maskRejected = async (
      object: LocalObject,
      reasonOf: (line: number, bytes: Buffer) => Rejection | undefined
    ) => {
      const read = ws.path(`object-${object.index}.masked.json`);
      const rejected = await maskLines(object.info.path, read, reasonOf);
      return {
        rejected,
        use: async () => {
          Object.assign(object, { read, masked: rejected.map((r) => r.line) });
          object.rejected = rejected.length;
          const local = ws.path(`object-${object.index}.rejected.json`);
          await writeFile(local, rejected.map((r) => JSON.stringify(r)).join('\n'));
          await engine.run(
            `insert into slow_rejected select ${quoteLiteral(object.key)}, line, text, reason from read_json(${quoteLiteral(local)}, format = 'newline_delimited', columns = {line: 'BIGINT', text: 'VARCHAR', reason: 'VARCHAR'})`
          );
        },
      };
    };
    const out = ws.path('silver');
    const planOf = (structure: JsonStructure) => {
      const arrays = explodedArrays(feed, structure, options.explode ?? []);
      const exploded = new Set(arrays.map((array) => array.path));
      const columns = withRegistry(
        flattenPlan(structure, planOptionsOf(options)).filter(
          (column) => !exploded.has(column.path)
        ),
        registry,
        options.separator
      );
      return { arrays, columns };
    };
    /** Removes what a write attempt left, which the next one might not overwrite. */
    const clearOutputs = async (arrays: readonly ExplodedArray[]) => {
      for (const dir of [out, ...arrays.map((_, i) => `${out}-${i}`)]) {
        await rm(dir, { recursive: true, force: true });
      }
    };

    /**
     * The batch written in one read, when the sample already shows every key: DuckDB's reader,
     * its columns detected from a witness ({@link witnessedRead}), fails on any key the plan
     * lacks. Lines Node saw cannot be objects are masked first. None when the batch needs the
     * key pass instead: a file goes line by line, the sample saw a new field only as null, the
     * read fails (a key the sample missed…), or a value does not fit the type a new column took
     * from the sample, which fails the read too (the pass types the column by every value it
     * holds, where this read would park the misfits in `_variant`).
     */
    const writeWitnessed = async (): Promise<Written | undefined> => {
      if (objects.some((o) => o.path === 'slow')) return undefined;
      const first = await sampleStructure(engine, [lineFiles], structureOf(registry));
      let { structure } = first;
      const unreadable = [...first.unreadable];
      // A file that is one JSON array is read whole or not at all, and no line count tells
      // its records apart: arrays get the key pass, which counts them too.
      if (arrayFiles.paths.length > 0) {
        const listed = await discoverStructure(engine, [arrayFiles], {
          maxDepth: options.maxDepth,
          known: structure,
        });
        structure = listed.structure;
        unreadable.push(...listed.unreadable);
        for (const object of objects.filter((o) => o.info.layout === 'array')) {
          object.records = listed.records.get(object.info.path) ?? 0;
        }
      }
      const registered = new Set(registry.map((column) => column.path));
      const unsettled = leafPaths(structure, options.maxDepth).some(
        (keys) => structureAt(structure, keys) === 'NULL' && !registered.has(jsonPath(keys))
      );
      // A field named file_index hides the reader's file number the witness is told apart by.
      if (unreadable.length > 0 || unsettled || hasField(structure, 'file_index')) return undefined;
      const { columns, arrays } = planOf(structure);
      // A new typed column is read as JSON: a string there ("5") then does not fit, as the key
      // pass would see it, rather than being cast.
      const asJson = new Set(
        columns
          .filter((c) => !registered.has(c.path) && c.type !== 'JSON' && c.type !== 'VARCHAR')
          .map((c) => c.path)
      );
      const shape = readShapeOf(structure, columns, arrays, options.maxDepth, asJson);
      const witness = ws.path('witness.jsonl');
      await writeWitness(shape, witness);
      if (!(await witnessHolds(engine, witness, shape))) return undefined;
      for (const object of objects.filter((o) => o.path === 'fast' && o.info.suspect.length)) {
        const suspect = new Set(object.info.suspect);
        const masked = await maskRejected(object, (line, bytes) =>
          suspect.has(line) ? rejectionOf(bytes.toString('utf8')) : undefined
        );
        await masked.use();
      }
      // The lines that are left must all be records, or the read fails; the batch's count check
      // compares their sum with the rows the Parquet files hold.
      for (const object of objects.filter((o) => o.path === 'fast' && o.info.layout === 'lines')) {
        object.records = object.info.lines - object.rejected;
      }
      const groups = fastGroups();
      try {
        const children = await writeSilver(engine, {
          columns,
          arrays,
          structure,
          shape,
          fastGroups: groups,
          objects,
          batchId,
          options,
          out,
          witness,
          asJson,
        });
        return { columns, children };
      } catch (error) {
        // A key the sample missed, a malformed record…: the key pass finds out. Anything else
        // (no memory, no disk) would fail that path too, after reading the batch again.
        if (!DATA_ERROR.test(error instanceof Error ? error.message : String(error))) throw error;
      }
      for (const object of objects) {
        Object.assign(object, { read: object.info.path, masked: [], records: 0, rejected: 0 });
      }
      await engine.run('delete from slow_rejected');
      await clearOutputs(arrays);
      return undefined;
    };

    /**
     * The batch written after the key pass ({@link discoverStructure}) listed every record's
     * keys and kinds; files DuckDB's reader still cannot take go line by line.
     */
    const writeDiscovered = async (): Promise<Written> => {
      const discovered = await discoverStructure(engine, [lineFiles, arrayFiles], {
        maxDepth: options.maxDepth,
        known: structureOf(registry),
      });
      let structure = discovered.structure;
      for (const object of objects.filter((o) => o.path === 'fast')) {
        object.records = discovered.records.get(object.info.path) ?? 0;
        if (discovered.unreadable.has(object.info.path)) object.path = 'slow';
        // A JSON Lines file with fewer records than lines has lines that hold none (malformed,
        // or not an object): masked, it stays on the fast path, and they go to quarantine.
        else if (object.info.layout === 'lines' && object.records !== object.info.lines) {
          const lines = discovered.rejected.get(object.info.path) ?? new Map();
          const masked = await maskRejected(object, (line) => lines.get(line));
          // Lines DuckDB's reader skipped unseen: the slow path judges each line itself.
          if (object.records + masked.rejected.length !== object.info.lines) object.path = 'slow';
          else await masked.use();
        }
      }

      /** Loads a file line by line into the slow tables (their structure is discovered below). */
      const goSlow = async (object: LocalObject) => {
        object.path = 'slow';
        // The slow path quarantines the file's rejected lines itself, masked ones included.
        if (object.masked.length > 0) {
          await engine.run(
            `delete from slow_rejected where source_key = ${quoteLiteral(object.key)}`
          );
          Object.assign(object, { read: object.info.path, masked: [] });
        }
        const table = `o${object.index}`;
        const loaded = await loadRecords(engine, object.info.path, { table });
        object.records = loaded.records;
        object.rejected = loaded.rejected;
        if (loaded.error) {
          object.path = 'none';
          object.error = loaded.error;
          return;
        }
        const key = quoteLiteral(object.key);
        await engine.run(`
          insert into slow_records select ${key}, line_no, record from ${quoteIdentifier(`${table}_records`)};
          insert into slow_rejected select ${key}, line_no, text, reason from ${quoteIdentifier(`${table}_rejected`)};
          drop table ${quoteIdentifier(`${table}_records`)}; drop table ${quoteIdentifier(`${table}_rejected`)};`);
      };
      for (const object of objects.filter((o) => o.path === 'slow')) await goSlow(object);

      for (;;) {
        // The slow files' records are in DuckDB already: their keys are listed the same way.
        const slowKeys = objects.filter((o) => o.path === 'slow').map((o) => o.key);
        if (slowKeys.length > 0) {
          const slow = await discoverStructure(
            engine,
            [
              {
                format: 'relation',
                paths: slowKeys,
                sql: 'select source_key as filename, record as json from slow_records',
              },
            ],
            { maxDepth: options.maxDepth, known: structure }
          );
          structure = slow.structure;
        }
        const { columns, arrays } = planOf(structure);
        const groups = fastGroups();
        await clearOutputs(arrays);
        try {
          const children = await writeSilver(engine, {
            columns,
            arrays,
            structure,
            shape: readShapeOf(structure, columns, arrays, options.maxDepth),
            fastGroups: groups,
            objects,
            batchId,
            options,
            out,
          });
          return { columns, children };
        } catch (error) {
          // DuckDB's reader names the file it could not map onto the plan (a scalar where
          // objects were seen): that file goes line by line and the batch is written again.
          const named = fileNamedIn(
            error,
            groups.flatMap((g) => g.paths)
          );
          const bad = objects.find((object) => object.read === named);
          if (!bad) throw error;
          await goSlow(bad);
        }
      }
    };
    const witnessed = options.keyPass === 'always' ? undefined : await writeWitnessed();
    const { columns, children } = witnessed ?? (await writeDiscovered());
    /** Uploads the Parquet files DuckDB wrote under `dir` to the dataset's silver prefix. */
    const publish = async (dir: string, dataset: string) => {
      const parts = await engine
        .all(
          `select file_name as file, num_rows as n from parquet_file_metadata(${quoteLiteral(join(dir, '**', '*.parquet'))}) order by 1`
        )
        // No file at all: a batch with no rows (a real failure shows in the count check below).
        .catch(() => []);
      const outputs = parts.map(
        (part) =>
          `${FlattenLayout.silverPrefix(dataset)}${relative(dir, String(part.file)).split('\\').join('/')}`
      );
      await eachLimited(parts, IO_CONCURRENCY, (part, i) =>
        store.upload(outputs[i] as string, String(part.file), 'application/vnd.apache.parquet')
      );
      return { outputs, rows: parts.reduce((total, part) => total + Number(part.n), 0) };
    };
    const { outputs, rows: rowsWritten } = await publish(out, feed);
    const childResults: FlattenBatchResult['children'] = [];
    for (const [i, { table: child, elements }] of children.entries()) {
      const written = await publish(`${out}-${i}`, child.dataset);
      if (written.rows !== elements) {
        throw new QualityFailedError(
          `flatten-batch ${batchId}: ${child.path} holds ${elements} elements but ${child.dataset} got ${written.rows} rows`
        );
      }
      const schemaKey = FlattenLayout.schemaFragment(child.dataset, batchId);
      await store.put(
        schemaKey,
        JSON.stringify({ feed: child.dataset, batchId, columns: child.columns }, null, 2),
        'application/json'
      );
      childResults.push({
        dataset: child.dataset,
        rowsWritten: written.rows,
        outputs: written.outputs,
        schemaKey,
      });
    }

    const rejectedLines = await engine.scalarNumber('select count(*) from slow_rejected');
    if (rejectedLines > 0) {
      const local = ws.path('rejected.jsonl');
      await engine.run(
        `copy (select source_key as file, line_no as line, reason as error, text from slow_rejected order by 1, 2) to ${quoteLiteral(local)} (format json)`
      );
      await store.upload(
        FlattenLayout.quarantineRecords(feed, batchId),
        local,
        'application/x-ndjson'
      );
    }
    const unreadable = objects.filter((object) => object.error);
    for (const file of unreadable) {
      const key = FlattenLayout.quarantineFile(feed, batchId, file.key);
      await store.copy(file.source, key, file.size);
      await store.put(
        `${key}.error.json`,
        JSON.stringify({ file: file.key, error: file.error, batchId }, null, 2),
        'application/json'
      );
    }

    const records = objects.reduce(
      (total, object) => total + (object.error ? 0 : object.records),
      0
    );
    const recordsQuarantined = rejectedLines + unreadable.length;
    const recordsRead = records + recordsQuarantined;
    if (rowsWritten !== records) {
      throw new QualityFailedError(
        `flatten-batch ${batchId}: read ${recordsRead} records, wrote ${rowsWritten} rows and quarantined ${recordsQuarantined}`
      );
    }
    const schemaKey = FlattenLayout.schemaFragment(feed, batchId);
    await store.put(
      schemaKey,
      JSON.stringify({ feed, batchId, columns }, null, 2),
      'application/json'
    );

    await eachLimited(objects, IO_CONCURRENCY, (object) =>
      deps.ledger.succeed(
        object.key,
        batchId,
        {
          rowsWritten: object.error ? 0 : object.records,
          rowsQuarantined: object.error ? 1 : object.rejected,
        },
        now()
      )
    );
    // An object leaves raw/ once all of it is done: a whole one with its batch; one planned in
    // ranges with the batch that finds them all SUCCEEDED, which then marks the object itself.
    const whole = objects
      .filter((object) => object.key === object.object)
      .map(({ object, size, key }) => ({ object, size, retry: finished.has(key) }));
    const split: typeof whole = [];
    // Ranges the ledger gave to other batches count too: a range this plan skips may be the
    // last one an earlier run finished without moving its object.
    for (const { key, size, range, step } of items) {
      if (!range || !step) continue;
      const siblings = rangesOf(size, step).map((r) => rangeKey(key, r));
      const states = await deps.ledger.getMany([...siblings, key]);
      if (!siblings.every((sibling) => states.get(sibling)?.status === 'SUCCEEDED')) continue;
      const retry = states.get(key)?.batchId === batchId;
      // Two ranges' batches can finish together: the ledger lets one of them move the object.
      if (await deps.ledger.claim(key, batchId, now())) split.push({ object: key, size, retry });
    }
    const done = [...whole, ...split];
    if (!options.leaveInPlace) {
      await eachLimited(done, IO_CONCURRENCY, ({ object, size, retry }) =>
        store.copy(object, FlattenLayout.processed(object), size).catch((error: unknown) => {
          // An object no longer in raw/ was moved by the attempt this one retries.
          if (!(retry && error instanceof BadInputError)) throw error;
        })
      );
      await store.delete(done.map(({ object }) => object));
    }
    await eachLimited(split, IO_CONCURRENCY, ({ object }) =>
      deps.ledger.succeed(object, batchId, { rowsWritten: 0, rowsQuarantined: 0 }, now())
    );
    return {
      feed,
      batchId,
      objects: objects.length,
      skipped: input.objects.length - objects.length,
      recordsRead,
      rowsWritten,
      recordsQuarantined,
      outputs,
      schemaKey,
      children: childResults,
      keyPass: !witnessed,
    };
  });
};

/**
 * Writes the batch's rows, fast files read by DuckDB's JSON reader and slow files from their
 * loaded records, as ZSTD Parquet partitioned by year/month/day/mode in one COPY. With child
 * tables, the rows are kept in a temporary table first so each child is unnested from it
 * instead of reading the files again; returns the elements each child should get.
 */
const writeSilver = async (
  engine: DuckDbEngine,
  plan: {
    columns: FlatColumn[];
    arrays: ExplodedArray[];
    structure: JsonStructure;
    /** How the fast files are read ({@link readShapeOf}). */
    shape: { [key: string]: ReadShape };
    fastGroups: FileGroup[];
    objects: readonly LocalObject[];
    batchId: string;
    options: FlattenBatchOptions;
    out: string;
    /** JSON Lines are read with columns detected from this ({@link witnessedRead}), not given. */
    witness?: string;
    /** Typed columns the shape reads as JSON. */
    asJson?: ReadonlySet<string>;
  }
): Promise<Written['children']> => {
  const { columns, arrays, structure, options } = plan;
  const asJson = plan.asJson ?? new Set<string>();
  /** A typed column read as JSON is cast from its text. */
  const access: ColumnAccess = (column) =>
    asJson.has(column.path) ? `${structAccess(column)}::varchar` : structAccess(column);
  /** The partition values from the promoted fields, read as `access` reaches a top-level field. */
  const partitions = (text: (field: string) => string) => {
    const day = `try_cast(${text(options.partition.date)} as date)`;
    return [
      `coalesce(strftime(${day}, '%Y'), '${HIVE_NULL}') as year`,
      `coalesce(strftime(${day}, '%m'), '${HIVE_NULL}') as month`,
      `coalesce(strftime(${day}, '%d'), '${HIVE_NULL}') as day`,
      `coalesce(regexp_replace(${text(options.partition.mode)}, '[^A-Za-z0-9_-]', '_', 'g'), '${HIVE_NULL}') as mode`,
    ].join(', ');
  };
  const topLevelText = (field: string) => {
    const node = structureAt(structure, [field]);
    return typeof node === 'string' && node !== 'JSON'
      ? access({ name: field, path: jsonPath([field]), type: 'VARCHAR' })
      : 'null::varchar';
  };
  const batch = quoteLiteral(plan.batchId);
  /** The exploded arrays as JSON columns `_explode_<n>`, for the child tables. */
  const arrayColumns = (access: ColumnAccess) =>
    arrays
      .map(
        (array, i) => `, ${access({ name: '', path: array.path, type: 'JSON' })} as _explode_${i}`
      )
      .join('');
  // The reader's own columns (file, row number) take names no top-level field has.
  const unused = (base: string) => {
    let name = base;
    while (hasField(structure, name)) name = `_${name}`;
    return name;
  };
  const [fileColumn, rowColumn, pathColumn] = [
    '__strata_file',
    '__strata_row',
    '__strata_path',
  ].map(unused) as [string, string, string];
  // DuckDB numbers the files it reads from 0 (`file_index`); a record field of that name hides
  // the number, and each row's file is then looked up by its path (a scan of the batch's list).
  const indexHidden = hasField(structure, 'file_index');
  const byRead = new Map(plan.objects.map((object) => [object.read, object]));
  const branches = plan.fastGroups.map((group) => {
    // Files are read in list order: a record's line is its row number less the rows before its file.
    const objects = group.paths.map((path) => byRead.get(path) as LocalObject);
    const offsets: number[] = [];
    let before = 0;
    for (const object of objects) {
      offsets.push(before);
      before += object.records + object.masked.length;
    }
    const keys = `[${objects.map((o) => quoteLiteral(o.key)).join(', ')}]`;
    const paths = `[${group.paths.map(quoteLiteral).join(', ')}]`;
    const fileIndex = quoteIdentifier(fileColumn);
    const witnessed = group.format === 'newline_delimited' ? plan.witness : undefined;
    // The witness is file 0, the batch's files 1…n.
    const files = witnessed
      ? `(select *, file_index::bigint as ${fileIndex} from ${witnessedRead(witnessed, group.paths)} where file_index > 0)`
      : `(select *, ${indexHidden ? `list_position(${paths}, ${quoteIdentifier(pathColumn)})` : '(file_index + 1)::bigint'} as ${fileIndex}
         from read_json(${paths}, format = ${quoteLiteral(group.format)}, records = true, ${indexHidden ? `filename = ${quoteLiteral(pathColumn)}, ` : ''}columns = ${readJsonColumns(plan.shape)}))`;
    const line = `${quoteIdentifier(rowColumn)} - [${offsets.join(', ')}][${fileIndex}]`;
    const masked = objects.some((o) => o.masked.length > 0)
      ? `where not list_contains([${objects.map((o) => `[${o.masked.join(', ')}]::bigint[]`).join(', ')}][${fileIndex}], ${line})`
      : '';
    return `
      select ${flattenSelect(columns, access, asJson)},
        ${keys}[${fileIndex}] as _source_key,
        ${line} as _source_line,
        ${batch} as _batch_id,
        ${partitions(topLevelText)}${arrayColumns(access)}
      from (select *, row_number() over () as ${quoteIdentifier(rowColumn)} from ${files})
      ${masked}`;
  });
  const slowText = (field: string) =>
    `json_extract_string(record, ${quoteLiteral(jsonPath([field]))})`;
  branches.push(`
      select ${flattenSelect(columns, jsonAccess('record'))},
        source_key as _source_key, line_no as _source_line, ${batch} as _batch_id,
        ${partitions(slowText)}${arrayColumns(jsonAccess('record'))}
      from slow_records`);
  const rows = branches.join(' union all ');
  // A partitioned COPY buffers this many rows across partitions before it writes (524,288 by
  // default), outside DuckDB's memory limit: a lower mark keeps a large batch's RSS bounded.
  await engine.run('set partitioned_write_flush_threshold = 65536');
  const copy = (query: string, dir: string) =>
    engine.run(`
      copy (${query})
      to ${quoteLiteral(dir)} (format parquet, compression zstd, partition_by (${PARTITION_KEYS.join(', ')}), filename_pattern ${quoteLiteral(FlattenLayout.silverFilePattern(plan.batchId))}, overwrite_or_ignore)`);
  if (arrays.length === 0) {
    await copy(rows, plan.out);
    return [];
  }
  await engine.run(`create or replace temp table batch_rows as ${rows}`);
  // A value at an exploded path that is no array (an object, a string) has no elements to be
  // rows of the child table: the record keeps it in `_variant`, as a value that does not fit.
  const notArrays = arrays.map((array, i) => {
    const value = `_explode_${i}`;
    const name = pathKeys(array.path).map(normalise).join(options.separator);
    return `case when json_type(${value}) not in ('ARRAY', 'NULL') then json_object(${quoteLiteral(name)}, ${value}) end`;
  });
  const variant = `nullif(to_json(list_concat(coalesce(from_json(_variant, '["JSON"]'), []), list_filter([${notArrays.join(', ')}], x -> x is not null))), '[]')::json`;
  await copy(
    `select * exclude (${arrays.map((_, i) => `_explode_${i}`).join(', ')}) replace (${variant} as _variant) from batch_rows`,
    plan.out
  );
  const children: { table: ChildTable; elements: number }[] = [];
  for (const [i, array] of arrays.entries()) {
    const column = `_explode_${i}`;
    const holding = `from batch_rows where json_type(${column}) = 'ARRAY'`;
    const elements = `select _source_key, _source_line, _batch_id, ${PARTITION_KEYS.join(', ')},
        unnest(json_extract(${column}, '$[*]')) as _element,
        unnest(range(1, json_array_length(${column})::bigint + 1)) as _index
      ${holding}`;
    // Every element's keys, as for records: an element key no sample showed is still a column.
    const { structure: element } = await discoverStructure(
      engine,
      [
        {
          format: 'relation',
          paths: ['elements'],
          sql: `select 'elements' as filename, _element as json from (${elements})`,
        },
      ],
      { maxDepth: options.maxDepth, known: 'NULL' }
    );
    const table = childTable(array, element, planOptionsOf(options));
    const record = table.wrap ? `json_object('value', _element)` : '_element';
    await copy(
      `select ${flattenSelect(table.columns, jsonAccess('_record'))},
         _source_key, _source_line, _index, _batch_id, ${PARTITION_KEYS.join(', ')}
       from (select *, ${record} as _record from (${elements}))`,
      `${plan.out}-${i}`
    );
    children.push({
      table,
      elements: await engine.scalarNumber(
        `select coalesce(sum(json_array_length(${column})), 0) ${holding}`
      ),
    });
  }
  await engine.run('drop table batch_rows');
  return children;
};
