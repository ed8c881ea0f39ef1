import {
  hasField,
  keysCollide,
  planBatch,
  readShapeOf,
  sampledKinds,
  structureOf,
} from './batchPlan.js';
import { DATA_ERROR } from './constants.js';
import { discoverStructure, sampleStructure } from './discoverStructure.js';
import { isTyped } from './flattenPlan.js';
import { clearOutputs, fastGroups, fileGroup } from './stageBatch.js';
import { holdsUnreachableKey, jsonPath, leafPaths, structureAt } from './structure.js';
import { maskSuspectLines, unmaskLines } from './suspectLines.js';
import type { StagedBatch, Written } from './types.js';
import { witnessHolds, writeWitness } from './witnessRead.js';
import { writeSilver } from './writeSilver.js';

/**
 * The batch written in one read, when the sample already shows every key: DuckDB's reader,
 * its columns detected from a witness (`witnessedRead`), fails on any key the plan
 * lacks. Lines Node saw cannot be objects are masked first. None when the batch needs the
 * key pass instead: a file goes line by line, the sample saw a new field only as null, the
 * read fails (a key the sample missed…), or a value does not fit the type a new column took
 * from the sample, which fails the read too (the pass types the column by every value it
 * holds, where this read would park the misfits in `_variant`). Then nothing is written, and
 * every file is read again from where it was staged, unmasked (the key pass counts the
 * records of array files again).
 *
 * @param batch - the staged batch
 */
export const writeWitnessed = async (batch: StagedBatch): Promise<Written | undefined> => {
  const { engine, objects, options, registry } = batch;
  if (objects.some((o) => o.path === 'slow')) return undefined;
  const lineFiles = { ...fileGroup(batch, 'newline_delimited'), sample: batch.sample };
  const arrayFiles = fileGroup(batch, 'array');
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
  // A field named file_index hides the reader's file number the witness is told apart by;
  // keys that differ only in case the reader cannot name apart; a top-level key no JSON path
  // reaches sends its records to quarantine, line by line.
  if (
    unreadable.length > 0 ||
    unsettled ||
    hasField(structure, 'file_index') ||
    keysCollide(structure) ||
    holdsUnreachableKey(structure)
  )
    return undefined;
  const kinds = await sampledKinds(
    engine,
    { sample: batch.sample, longest: lineFiles.longestRecord ?? 0 },
    structure,
    options.maxDepth
  );
  const { columns, arrays } = planBatch(structure, batch, kinds);
  // A value that does not fit a new typed column fails the read, as the key pass would widen
  // the column; one that does not fit a registered column goes to `_variant`.
  const strict = new Set(
    columns.filter((c) => !registered.has(c.path) && isTyped(c)).map((c) => c.path)
  );
  const shape = readShapeOf(structure, columns, arrays, options.maxDepth);
  const witness = batch.ws.path('witness.jsonl');
  await writeWitness(shape, witness);
  if (!(await witnessHolds(engine, witness, shape))) return undefined;
  await maskSuspectLines(batch);
  try {
    const children = await writeSilver(engine, {
      columns,
      arrays,
      structure,
      shape,
      fastGroups: fastGroups(batch),
      objects,
      batchId: batch.batchId,
      options,
      out: batch.out,
      witness,
      strict,
    });
    return { columns, children };
  } catch (error) {
    // A key the sample missed, a malformed record…: the key pass finds out. Anything else
    // (no memory, no disk) would fail that path too, after reading the batch again.
    if (!DATA_ERROR.test(error instanceof Error ? error.message : String(error))) throw error;
  }
  await unmaskLines(batch);
  await clearOutputs(batch, arrays);
  return undefined;
};
