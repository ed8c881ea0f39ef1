import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { feedSchema, quoteIdentifier, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine, type DuckDbEngineOptions } from '@strata/core/engine';
import {
  type FlatColumn,
  type FlattenBatchInput,
  type FlattenBatchOptions,
  type FlattenBatchResult,
  flattenOptionsOf,
  jsonPath,
  readBatchManifest,
  runFlattenBatch,
} from '@strata/core/flatten';
import { eachLimited } from '@strata/core/lake';
import { type PlannedBatch, runPlanBacklog } from '@strata/core/plan-backlog';
import type { Ledger, ObjectStore } from '@strata/core/ports';
import { flatName } from './event.js';

/**
 * The FlattenBatch function's options for a feed that sets only its partition fields (none of
 * `max_depth`, `child_tables`, `infer`), except that raw objects stay where they are, so every
 * repetition reads the same input. The figures are what such a deployment gets: objects
 * flattened at any depth, arrays of objects as child tables (the backlog's items as a child
 * table cost 57% more CPU than kept as JSON with `child_tables: false`, bench/RESULTS.md).
 */
export const FLATTEN_OPTIONS: FlattenBatchOptions = {
  ...flattenOptionsOf(feedSchema.parse({ partition: { date: 'DATE', mode: 'MODE' } })),
  leaveInPlace: true,
};

/**
 * Plans every feed's backlog (`raw/<feed>/`, historical files and weekly drops) with the real
 * planner and an empty ledger, and returns the batches as the Distributed Map hands them out.
 *
 * @param feeds - the feeds to plan
 * @param deps - lake and an empty ledger
 * @param targetBatchBytes - the batch size to plan, if not the planner's default
 */
export const planBatches = async (
  feeds: readonly string[],
  deps: { store: ObjectStore; ledger: Ledger },
  targetBatchBytes?: number
): Promise<FlattenBatchInput[]> => {
  const batches: FlattenBatchInput[] = [];
  for (const feed of feeds) {
    const plan = await runPlanBacklog(
      {
        runId: 'bench',
        feed,
        prefix: `raw/${feed}/`,
        ...(targetBatchBytes ? { targetBatchBytes } : {}),
      },
      deps
    );
    const body = await deps.store.get(plan.manifestKey);
    for (const line of new TextDecoder().decode(body).split('\n').filter(Boolean)) {
      const { batchId, objects } = JSON.parse(line) as PlannedBatch;
      batches.push({ feed, batchId, objects });
    }
  }
  return batches;
};

/**
 * Flattens the batches one after another, each on a fresh DuckDB engine as each Lambda
 * invocation gets one: what one core does with its share of the backlog.
 *
 * @param batches - the planned batches
 * @param deps - lake, a ledger that knows none of the objects yet, the engine's settings
 */
export const flattenBatches = async (
  batches: readonly FlattenBatchInput[],
  deps: { store: ObjectStore; ledger: Ledger; engine: DuckDbEngineOptions }
): Promise<FlattenBatchResult[]> => {
  const results: FlattenBatchResult[] = [];
  for (const batch of batches) {
    results.push(
      await DuckDbEngine.use(deps.engine, (engine) =>
        runFlattenBatch(batch, {
          store: deps.store,
          engine,
          ledger: deps.ledger,
          options: FLATTEN_OPTIONS,
        })
      )
    );
  }
  return results;
};

/** Sums the batches' counts. */
export const totals = (results: readonly FlattenBatchResult[]) => ({
  recordsRead: results.reduce((sum, r) => sum + r.recordsRead, 0),
  rowsWritten: results.reduce((sum, r) => sum + r.rowsWritten, 0),
  recordsQuarantined: results.reduce((sum, r) => sum + r.recordsQuarantined, 0),
});

/**
 * The Parquet parts the batches wrote, from their manifests.
 *
 * @param store - the lake
 * @param results - the batches' results
 */
export const outputsOf = async (store: ObjectStore, results: readonly FlattenBatchResult[]) =>
  (await Promise.all(results.map((r) => readBatchManifest(store, r.manifestKey)))).flatMap(
    (manifest) => manifest.outputs
  );

/**
 * The child tables the batches wrote (arrays of objects), by their name below the feed's
 * (`payload_items`): their Parquet parts, rows and schema fragments.
 *
 * @param store - the lake
 * @param results - the batches' results
 */
export const childOutputsOf = async (
  store: ObjectStore,
  results: readonly FlattenBatchResult[]
) => {
  const children = new Map<string, { outputs: string[]; rows: number; schemaKeys: string[] }>();
  for (const result of results) {
    const manifest = await readBatchManifest(store, result.manifestKey);
    for (const child of result.children) {
      const name = child.dataset.slice(result.feed.length + 2);
      const held = children.get(name) ?? { outputs: [], rows: 0, schemaKeys: [] };
      held.outputs.push(
        ...(manifest.children.find((c) => c.dataset === child.dataset)?.outputs ?? [])
      );
      held.rows += child.rowsWritten;
      held.schemaKeys.push(child.schemaKey);
      children.set(name, held);
    }
  }
  return children;
};

/** Downloads at most this many output objects at once. */
const DOWNLOADS = 16;

/**
 * Reads the Parquet a run wrote back from the lake and checks that nothing was dropped: as many
 * rows as the batches report, and every field the input carries either a column of its own
 * (holding values) or found inside the JSON column of the nearest ancestor kept whole (arrays,
 * subtrees past the depth limit). Returns the findings; the caller fails the workload on them.
 *
 * @param outputs - the Parquet objects' keys
 * @param expected - rows the batches reported, and every field path of the input (`a.b.c`)
 * @param deps - lake, and a scratch directory
 */
export const checkOutputs = async (
  outputs: readonly string[],
  expected: { rows: number; fields: readonly string[] },
  deps: {
    store: ObjectStore;
    dir: string;
    schemaKeys: readonly string[];
    /** Child tables by their name below the feed's ({@link childOutputsOf}). */
    children?: ReadonlyMap<string, { outputs: string[]; rows: number; schemaKeys: string[] }>;
  }
): Promise<{ ok: boolean; summary: string }> => {
  // A field inside an array that is a child table is checked in that table's Parquet.
  const children = deps.children ?? new Map();
  const inChild = new Map<string, string[]>();
  const fields = expected.fields.filter((field) => {
    const path = field.split('.');
    const depth = [...path.keys()].find((i) => children.has(flatName(path.slice(0, i + 1))));
    if (depth === undefined || depth === path.length - 1) return true;
    const name = flatName(path.slice(0, depth + 1));
    inChild.set(name, [...(inChild.get(name) ?? []), path.slice(depth + 1).join('.')]);
    return false;
  });
  const childChecks = await Promise.all(
    [...inChild].map(([name, childFields]) => {
      const child = children.get(name) as { outputs: string[]; rows: number; schemaKeys: string[] };
      return checkOutputs(
        child.outputs,
        { rows: child.rows, fields: childFields },
        { store: deps.store, dir: join(deps.dir, name), schemaKeys: child.schemaKeys }
      );
    })
  );
  const parent = await checkFields(outputs, { rows: expected.rows, fields }, deps);
  const checks = [parent, ...childChecks];
  return {
    ok: checks.every((check) => check.ok),
    summary: checks.map((check) => check.summary).join('; '),
  };
};

/** {@link checkOutputs} for one dataset's Parquet. */
const checkFields = async (
  outputs: readonly string[],
  expected: { rows: number; fields: readonly string[] },
  deps: { store: ObjectStore; dir: string; schemaKeys: readonly string[] }
): Promise<{ ok: boolean; summary: string }> => {
  // The batches' plans name each path's column (a field named like a partition key is renamed;
  // a path of several kinds has its own column and variant columns).
  const planned = new Map<string, string>();
  for (const key of deps.schemaKeys) {
    const body = await deps.store.get(key);
    const fragment = JSON.parse(new TextDecoder().decode(body)) as { columns: FlatColumn[] };
    for (const column of fragment.columns) {
      if (!column.variant) planned.set(column.path, column.name);
    }
  }
  const nameOf = (keys: string[]) => planned.get(jsonPath(keys)) ?? flatName(keys);
  await mkdir(deps.dir, { recursive: true });
  await eachLimited(outputs, DOWNLOADS, (key, n) =>
    deps.store.download(key, join(deps.dir, `part-${n}.parquet`))
  );
  return DuckDbEngine.use({ threads: 1 }, async (engine) => {
    await engine.run(
      `create view output as select * from read_parquet(${quoteLiteral(join(deps.dir, '*.parquet'))}, union_by_name = true)`
    );
    const columns = new Set(
      (await engine.all('describe output')).map((row) => String(row.column_name))
    );
    const missing: string[] = [];
    const checks: { field: string; sql: string }[] = [];
    for (const field of expected.fields) {
      const path = field.split('.');
      const depth = [...path.keys()]
        .reverse()
        .find((i) => columns.has(nameOf(path.slice(0, i + 1))));
      if (depth === undefined) {
        missing.push(field);
        continue;
      }
      const column = quoteIdentifier(nameOf(path.slice(0, depth + 1)));
      checks.push({
        field,
        sql:
          depth === path.length - 1
            ? `count(${column}) > 0`
            : `bool_or(contains(cast(${column} as varchar), ${quoteLiteral(`${JSON.stringify(path.at(-1))}:`)}))`,
      });
    }
    const [row] = await engine.all(
      `select count(*) as n${checks.map((c, i) => `, ${c.sql} as c${i}`).join('')} from output`
    );
    const empty = checks.filter((_, i) => row?.[`c${i}`] !== true).map((c) => c.field);
    const rows = Number(row?.n ?? 0);
    const problems = [
      rows === expected.rows ? '' : `Parquet holds ${rows} rows, batches reported ${expected.rows}`,
      missing.length ? `no column for ${missing.join(', ')}` : '',
      empty.length ? `no value kept for ${empty.join(', ')}` : '',
    ].filter(Boolean);
    return {
      ok: problems.length === 0,
      summary: problems.length
        ? problems.join('; ')
        : `all ${expected.fields.length} input fields found in ${columns.size} columns of ${outputs.length} Parquet objects`,
    };
  });
};
