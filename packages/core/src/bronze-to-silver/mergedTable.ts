import { rm } from 'node:fs/promises';
import { quoteIdentifier } from '../config/index.js';
import type { DuckDbEngine, Workspace } from '../engine/index.js';
import { COMPACTION, SILVER_SEQ, type SilverFile, type SilverManifest } from '../lake/index.js';
import { LINEAGE_COLUMNS } from './contract.js';
import { type WrittenFile, writeSilverFiles } from './partitions.js';
import { manifestOf, sameColumns } from './silverFiles.js';

/** The column names of a relation, in order. */
const columnsOf = async (engine: DuckDbEngine, relation: string): Promise<string[]> =>
  (await engine.all(`describe select * from ${relation}`)).map((row) => String(row.column_name));

/** `a.k1 = b.k1 and …` over the key columns. */
const keyEquals = (key: readonly string[], a: string, b: string) =>
  key
    .map((column) => `${a}.${quoteIdentifier(column)} = ${b}.${quoteIdentifier(column)}`)
    .join(' and ');

/**
 * Creates `target` from `merged` (the rows a run's merge chose, one per key) keeping, for each
 * key whose row in `before` holds the same values but for its lineage, that earlier row as it
 * is: a snapshot that repeats a row changes nothing in silver, its lineage included, so only
 * the rows that changed need writing. A row's lineage is so that of the extract that last
 * changed it (or deleted it). When the two do not have the same columns, every merged row
 * stands as merged.
 *
 * @param engine - the engine
 * @param options - the merged rows, the rows before the run (null for none), the key (silver's
 *   column names) and the table to create
 */
export const keepUnchanged = async (
  engine: DuckDbEngine,
  options: { merged: string; before: string | null; key: readonly string[]; target: string }
): Promise<void> => {
  const { merged, before, key, target } = options;
  const columns = await columnsOf(engine, merged);
  const same =
    before !== null &&
    (await columnsOf(engine, before)).sort().join() === [...columns].sort().join();
  if (!before || !same) {
    await engine.run(`create or replace temp table ${target} as select * from ${merged}`);
    return;
  }
  const lineage: readonly string[] = LINEAGE_COLUMNS;
  const content = columns.filter((column) => !lineage.includes(column));
  const hash = `md5(to_json(struct_pack(${content.map((c) => `${quoteIdentifier(c)} := ${quoteIdentifier(c)}`).join(', ')}))::varchar) as _content`;
  const order = key.map(quoteIdentifier).join(', ');
  await engine.run(
    `create or replace temp table ${target} as
     with
     m as (select *, ${hash} from ${merged}),
     b as (select *, ${hash} from ${before}),
     unchanged as (
       select b.* from b semi join m on ${keyEquals(key, 'b', 'm')} and b._content = m._content
     )
     select * exclude (_content) from unchanged
     union all by name
     select * exclude (_content) from m
     where not exists (select 1 from unchanged as u where ${keyEquals(key, 'u', 'm')})
     order by ${order}`
  );
};

/** What a merge-on-read table's run writes, not yet published. */
export interface MergedWrite {
  /** A delta, a new base (when the deltas are due to be folded), or nothing. */
  written: WrittenFile[];
  /** The table's new manifest; undefined when the run changes none of its rows. */
  manifest: SilverManifest | undefined;
}

/** What a run writes of one table, and the manifest the table had before it. */
export interface TableWrite extends MergedWrite {
  before: SilverManifest | undefined;
}

/**
 * The bytes of files.
 *
 * @param files - files with their sizes
 */
export const bytesOf = (files: readonly { bytes: number }[]) =>
  files.reduce((sum, file) => sum + file.bytes, 0);

/**
 * Writes a keyed, unpartitioned silver table's change for this run, in the workspace, as
 * merge-on-read: only the rows that differ from the table before the run (new, changed,
 * deleted at the source, a history's new and closed versions) go into a delta file stamped
 * with the run's sequence, beside the files the table already has; a run that changes no row
 * writes nothing. The whole table is written anew as one base file instead when it is not yet
 * merge-on-read, when its columns, key or partitioning change (every file keeps the table's
 * types, as Athena needs), when a key went (versions cannot say a row is gone), or when the
 * deltas would pass {@link COMPACTION}'s bounds. Either way the table's rows are `rows`.
 *
 * File names carry the run and the sequence, so a retry of the run writes the same names and
 * a rerun after it published never overwrites a file the published manifest lists.
 *
 * @param deps - engine and workspace
 * @param options - the table, the run, its key (silver's column names), the table's rows
 *   after the run (one per key, no `_silver_seq`), and the manifest and rows before it
 */
export const writeMerged = async (
  deps: { engine: DuckDbEngine; ws: Workspace },
  options: {
    table: string;
    runId: string;
    key: readonly string[];
    rows: string;
    previous: SilverManifest | undefined;
    previousRows: string | null;
  }
): Promise<MergedWrite> => {
  const { engine } = deps;
  const { table, key, rows, previous, previousRows } = options;
  const seq = (previous?.merge?.seq ?? 0) + 1;
  // Files are named for the run and the sequence; the manifest for the run.
  const { runId } = options;
  const columns = await columnsOf(engine, rows);
  const [counts] = await engine.all(
    `select count(*) as n, ${columns.includes('_deleted_at') ? 'count(*) filter (where _deleted_at is not null)' : '0'} as deleted from ${rows}`
  );
  const merge = { key: [...key], seq, rows: Number(counts?.n), deleted: Number(counts?.deleted) };
  const stamped = (relation: string) =>
    `(select *, ${seq}::bigint as ${SILVER_SEQ} from ${relation})`;
  /** Writes `relation` stamped with the sequence, as a delta beside `kept` or as the base. */
  const write = async (relation: string, kept: readonly SilverFile[]): Promise<MergedWrite> => {
    const written = (
      await writeSilverFiles(deps, {
        relation: stamped(relation),
        table,
        runId: `${runId}-s${seq}`,
        partitioning: null,
      })
    ).map((file) => (kept.length > 0 ? { ...file, delta: true as const } : file));
    const manifest = await manifestOf(engine, {
      table,
      runId,
      partitioning: null,
      kept,
      written,
      merge,
    });
    return { written, manifest };
  };
  if (
    !previous?.merge ||
    !previousRows ||
    previous.partitioning ||
    previous.merge.key.join() !== key.join() ||
    !(await sameColumns(engine, stamped(rows), previous.columns)) ||
    (await engine.scalarNumber(
      `select count(*) from ${previousRows} as p where not exists (select 1 from ${rows} as r where ${keyEquals(key, 'r', 'p')})`
    )) > 0
  ) {
    return write(rows, []);
  }
  const list = columns.map(quoteIdentifier).join(', ');
  const delta = quoteIdentifier(`${table}__delta`);
  await engine.run(
    `create or replace temp table ${delta} as
     select ${list} from ${rows} except select ${list} from ${previousRows}`
  );
  if ((await engine.scalarNumber(`select count(*) from ${delta}`)) === 0) {
    return { written: [], manifest: undefined };
  }
  const change = await write(delta, previous.files);
  const deltas = [...previous.files.filter((file) => file.delta), ...change.written];
  const deltaBytes = deltas.reduce((sum, file) => sum + file.bytes, 0);
  const baseBytes = previous.files
    .filter((file) => !file.delta)
    .reduce((sum, file) => sum + file.bytes, 0);
  if (deltas.length > COMPACTION.deltas || deltaBytes > COMPACTION.deltaShare * baseBytes) {
    // Folded: the delta written is not needed, and the base goes where it went.
    await Promise.all(change.written.map((file) => rm(file.local)));
    return write(rows, []);
  }
  return change;
};
