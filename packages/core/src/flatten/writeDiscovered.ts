import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { keysCollide, planBatch, readShapeOf, structureOf } from './batchPlan.js';
import { discoverStructure, fileNamedIn } from './discoverStructure.js';
import { loadRecords } from './loadRecords.js';
import { clearOutputs, fastGroups, fileGroup, maskRejected } from './stageBatch.js';
import type { LocalObject, StagedBatch, Written } from './types.js';
import { writeSilver } from './writeSilver.js';

/** Loads a file line by line into the slow tables (their structure is discovered after). */
const goSlow = async (batch: StagedBatch, object: LocalObject) => {
  const { engine } = batch;
  object.path = 'slow';
  // The slow path quarantines the file's rejected lines itself, masked ones included.
  if (object.masked.length > 0) {
    await engine.run(`delete from slow_rejected where source_key = ${quoteLiteral(object.key)}`);
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

/**
 * The batch written after the key pass ({@link discoverStructure}) listed every record's
 * keys and kinds; files DuckDB's reader still cannot take go line by line.
 *
 * @param batch - the staged batch, every file to be read where it was staged (none masked)
 */
export const writeDiscovered = async (batch: StagedBatch): Promise<Written> => {
  const { engine, objects, options, registry } = batch;
  // The groups list the staged files: a failed one-read write took its masked copies back.
  const discovered = await discoverStructure(
    engine,
    [{ ...fileGroup(batch, 'newline_delimited'), sample: batch.sample }, fileGroup(batch, 'array')],
    { maxDepth: options.maxDepth, known: structureOf(registry) }
  );
  let structure = discovered.structure;
  for (const object of objects.filter((o) => o.path === 'fast')) {
    object.records = discovered.records.get(object.info.path) ?? 0;
    if (discovered.unreadable.has(object.info.path)) object.path = 'slow';
    // A JSON Lines file with fewer records than lines has lines that hold none (malformed,
    // or not an object): masked, it stays on the fast path, and they go to quarantine.
    else if (object.info.layout === 'lines' && object.records !== object.info.lines) {
      const lines = discovered.rejected.get(object.info.path) ?? new Map();
      const masked = await maskRejected(batch, object, (line) => lines.get(line));
      // Lines DuckDB's reader skipped unseen: the slow path judges each line itself.
      if (object.records + masked.rejected.length !== object.info.lines) object.path = 'slow';
      else await masked.use();
    }
  }
  for (const object of objects.filter((o) => o.path === 'slow')) await goSlow(batch, object);

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
    // Records with two top-level keys that differ only in case go line by line, where paths
    // tell the keys apart; the reader's columns cannot.
    const fast = objects.filter((o) => o.path === 'fast');
    if (keysCollide(structure) && fast.length > 0) {
      for (const object of fast) await goSlow(batch, object);
      continue;
    }
    const { columns, arrays } = planBatch(structure, batch);
    const groups = fastGroups(batch);
    await clearOutputs(batch, arrays);
    try {
      const children = await writeSilver(engine, {
        columns,
        arrays,
        structure,
        shape: readShapeOf(structure, columns, arrays, options.maxDepth),
        fastGroups: groups,
        objects,
        batchId: batch.batchId,
        options,
        out: batch.out,
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
      await goSlow(batch, bad);
    }
  }
};
