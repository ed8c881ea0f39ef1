import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import { QualityFailedError } from '../errors/index.js';
import { keysCollide, planBatch, readShapeOf, sampledKinds, structureOf } from './batchPlan.js';
import { discoverStructure, fileNamedIn } from './discoverStructure.js';
import { loadRecords } from './loadRecords.js';
import { clearOutputs, fastGroups, fileGroup, maskRejected } from './stageBatch.js';
import { type Rejection, strictRejection } from './strictJson.js';
import { holdsUnreachableKey } from './structure.js';
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
  // Counted against Node's scan, not against the loader itself: a line no reader yields
  // would otherwise vanish between them.
  if (loaded.format === 'jsonl' && loaded.records + loaded.rejected !== object.info.lines) {
    throw new QualityFailedError(
      `flatten-batch ${batch.batchId}: ${object.key} holds ${object.info.lines} lines, but ${loaded.records} records and ${loaded.rejected} rejected lines were read`
    );
  }
  const key = quoteLiteral(object.key);
  await engine.run(`
    insert into slow_records select ${key}, line_no, record from ${quoteIdentifier(`${table}_records`)};
    insert into slow_rejected select ${key}, line_no, text, reason from ${quoteIdentifier(`${table}_rejected`)};
    drop table ${quoteIdentifier(`${table}_records`)}; drop table ${quoteIdentifier(`${table}_rejected`)};`);
};

/**
 * Moves the slow records holding a top-level key no JSON path reaches (`""`, `*`, one with a
 * NUL) to quarantine: no column can be read for it, and `_variant` could not say where it was.
 */
const quarantineUnreachable = async (batch: StagedBatch) => {
  const { engine, objects } = batch;
  const reason: Rejection = 'a top-level key no JSON path reaches ("", "*" or one holding a NUL)';
  await engine.run(`
    create or replace temp table unreachable as
    select source_key, line_no from slow_records
    where len(list_filter(json_keys(record), k -> k = '' or k = '*' or contains(k, chr(0)))) > 0;
    insert into slow_rejected
    select source_key, line_no, record::varchar, ${quoteLiteral(reason)} from slow_records
    where (source_key, line_no) in (from unreachable);
    delete from slow_records where (source_key, line_no) in (from unreachable);`);
  const moved = await engine.all(
    'select source_key, count(*) as n from unreachable group by source_key'
  );
  for (const row of moved) {
    const object = objects.find((o) => o.key === String(row.source_key));
    if (!object) continue;
    object.records -= Number(row.n);
    object.rejected += Number(row.n);
  }
  await engine.run('drop table unreachable');
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
  const known = structureOf(registry);
  const discovered = await discoverStructure(
    engine,
    [{ ...fileGroup(batch, 'newline_delimited'), sample: batch.sample }, fileGroup(batch, 'array')],
    { maxDepth: options.maxDepth, known }
  );
  let structure = discovered.structure;
  for (const object of objects.filter((o) => o.path === 'fast')) {
    object.records = discovered.records.get(object.info.path) ?? 0;
    if (discovered.unreadable.has(object.info.path)) object.path = 'slow';
    // A JSON Lines file with fewer records than lines has lines that hold none (malformed,
    // or not an object), and lines Node's scan flagged may hold what DuckDB reads less
    // strictly than RFC 8259: masked, it stays on the fast path, and they go to quarantine.
    else if (
      object.info.layout === 'lines' &&
      (object.records !== object.info.lines || object.info.unusual.length > 0)
    ) {
      const lines = discovered.rejected.get(object.info.path) ?? new Map<number, Rejection>();
      // Lines DuckDB's reader skipped unseen: the slow path judges each line itself.
      if (object.records + lines.size !== object.info.lines) {
        object.path = 'slow';
        continue;
      }
      const unusual = new Set(object.info.unusual);
      const masked = await maskRejected(
        batch,
        object,
        (line, bytes) =>
          lines.get(line) ??
          (unusual.has(line) ? strictRejection(bytes.toString('utf8')) : undefined)
      );
      await masked.use();
      object.records = object.info.lines - masked.rejected.length;
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
    // tell the keys apart; the reader's columns cannot. So do records holding a top-level key
    // no JSON path reaches, which go to quarantine from there.
    const fast = objects.filter((o) => o.path === 'fast');
    const unreachable = holdsUnreachableKey(structure);
    if ((keysCollide(structure) || unreachable) && fast.length > 0) {
      for (const object of fast) await goSlow(batch, object);
      continue;
    }
    if (unreachable) {
      await quarantineUnreachable(batch);
      structure = known;
      continue;
    }
    const kinds = await sampledKinds(
      engine,
      { sample: batch.sample, longest: fileGroup(batch, 'newline_delimited').longestRecord ?? 0 },
      structure,
      options.maxDepth
    );
    const { columns, arrays } = planBatch(structure, batch, kinds);
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
