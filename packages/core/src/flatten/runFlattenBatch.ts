import { z } from 'zod';
import { parseOrThrow, quoteIdentifier, quoteLiteral } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, QualityFailedError } from '../errors/index.js';
import { writeParquetObject } from '../lake/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import { type FlatColumn, flattenPlan, flattenSelect } from './flattenPlan.js';
import { loadRecords } from './loadRecords.js';

/** One Distributed Map item: a planned batch of raw objects of one feed. */
export const flattenBatchInputSchema = z.object({
  feed: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  batchId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$/),
  objects: z.array(
    z.object({
      key: z.string().min(1),
      size: z.number().int().min(0),
      range: z.tuple([z.number().int(), z.number().int()]).optional(),
    })
  ),
});

export type FlattenBatchInput = z.input<typeof flattenBatchInputSchema>;

export interface FlattenBatchOptions {
  separator: string;
  maxDepth: number;
  /** Top-level fields promoted to partition keys: a date and a mode. */
  partition: { date: string; mode: string };
  /** Keep raw objects where they are instead of moving them to raw-processed/. */
  leaveInPlace: boolean;
}

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
}

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** Where a feed's flattened output, quarantine and schema fragments live. */
export const FlattenLayout = {
  silverPart: (feed: string, partition: Record<string, string>, batchId: string, n: number) =>
    `silver/${feed}/year=${partition.year}/month=${partition.month}/day=${partition.day}/mode=${partition.mode}/part-${batchId}-${String(n).padStart(5, '0')}.parquet`,
  quarantineRecords: (feed: string, batchId: string) =>
    `quarantine/${feed}/batch=${batchId}/records.jsonl`,
  quarantineFile: (feed: string, batchId: string, key: string) =>
    `quarantine/${feed}/batch=${batchId}/files/${key.slice(key.lastIndexOf('/') + 1)}`,
  schemaFragment: (feed: string, batchId: string) => `_schemas/${feed}/fragments/${batchId}.json`,
  processed: (key: string) => `raw-processed/${key.slice('raw/'.length)}`,
} as const;

/**
 * Flattens one planned batch of raw nested-JSON objects into partitioned silver Parquet.
 *
 * Objects another batch owns or already finished are skipped (the ledger decides); the batch's
 * own, including ones it marked done before a crash, are processed again so a retry rewrites the
 * same deterministic files. Malformed lines and unreadable objects go to quarantine with their
 * source and reason; records read must equal rows written plus records quarantined before the
 * ledger marks anything SUCCEEDED, and only then are raw objects moved to raw-processed/.
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
  const now = deps.now ?? (() => new Date());
  if (input.objects.some((object) => object.range)) {
    throw new BadInputError(
      `flatten-batch ${batchId}: byte-range items are planned for oversized files but not flattened yet`
    );
  }

  const entries = await deps.ledger.getMany(input.objects.map((object) => object.key));
  const mine: typeof input.objects = [];
  /** Objects this batch already finished: a retry reads them from raw-processed/ if moved. */
  const finished = new Set<string>();
  for (const object of input.objects) {
    const entry = entries.get(object.key);
    if (entry?.batchId === batchId && entry.status === 'SUCCEEDED') {
      mine.push(object);
      finished.add(object.key);
    } else if (await deps.ledger.claim(object.key, batchId, now())) mine.push(object);
  }

  return Workspace.use('flatten-batch', async (ws) => {
    const { engine, store } = deps;
    const unreadable: { key: string; error: string; local: string }[] = [];
    const loaded: { key: string; table: string; local: string }[] = [];
    for (const [i, object] of mine.entries()) {
      const local = ws.path(`object-${i}`);
      await store.download(object.key, local).catch((error: unknown) => {
        if (!finished.has(object.key)) throw error;
        return store.download(FlattenLayout.processed(object.key), local);
      });
      const table = `o${i}`;
      const result = await loadRecords(engine, local, {
        table,
        gzip: object.key.endsWith('.gz'),
        scratch: ws.path(`object-${i}.plain`),
      });
      if (result.error) unreadable.push({ key: object.key, error: result.error, local });
      else loaded.push({ key: object.key, table, local });
    }

    const union = (suffix: string, columns: string) =>
      loaded.length === 0
        ? null
        : loaded
            .map(
              ({ key, table }) =>
                `select ${quoteLiteral(key)} as source_key, ${columns} from ${quoteIdentifier(`${table}_${suffix}`)}`
            )
            .join(' union all ');
    const recordsUnion = union('records', 'line_no, record');
    await engine.run(
      recordsUnion
        ? `create or replace temp table batch_records as ${recordsUnion}`
        : 'create or replace temp table batch_records (source_key varchar, line_no bigint, record json)'
    );
    const rejectedUnion = union('rejected', 'line_no, text, reason');
    await engine.run(
      rejectedUnion
        ? `create or replace temp table batch_rejected as ${rejectedUnion}`
        : 'create or replace temp table batch_rejected (source_key varchar, line_no bigint, text varchar, reason varchar)'
    );

    const [structure] = await engine.all(
      'select json_group_structure(record) as s from batch_records'
    );
    const columns: FlatColumn[] = structure?.s
      ? flattenPlan(JSON.parse(String(structure.s)), deps.options)
      : [];
    const field = (name: string) =>
      `json_extract_string(record, ${quoteLiteral(`$.${JSON.stringify(name)}`)})`;
    const day = `try_cast(${field(deps.options.partition.date)} as date)`;
    await engine.run(`
      create or replace temp table batch_flat as
      select
        ${columns.length ? `${flattenSelect(columns, 'record')},` : ''}
        source_key as _source_key,
        line_no as _source_line,
        ${quoteLiteral(batchId)} as _batch_id,
        coalesce(strftime(${day}, '%Y'), '${HIVE_NULL}') as p_year,
        coalesce(strftime(${day}, '%m'), '${HIVE_NULL}') as p_month,
        coalesce(strftime(${day}, '%d'), '${HIVE_NULL}') as p_day,
        coalesce(regexp_replace(${field(deps.options.partition.mode)}, '[^A-Za-z0-9_-]', '_', 'g'), '${HIVE_NULL}') as p_mode
      from batch_records`);

    const partitions = await engine.all(
      'select distinct p_year as year, p_month as month, p_day as day, p_mode as mode from batch_flat order by all'
    );
    const outputs: string[] = [];
    let rowsWritten = 0;
    for (const [n, partition] of partitions.entries()) {
      const values = Object.fromEntries(Object.entries(partition).map(([k, v]) => [k, String(v)]));
      const key = FlattenLayout.silverPart(feed, values, batchId, n);
      const where = ['year', 'month', 'day', 'mode']
        .map((name) => `p_${name} = ${quoteLiteral(values[name] ?? '')}`)
        .join(' and ');
      rowsWritten += await writeParquetObject(
        { engine, ws, store },
        `select * exclude (p_year, p_month, p_day, p_mode) from batch_flat where ${where} order by _source_key, _source_line`,
        key
      );
      outputs.push(key);
    }

    const rejectedLines = await engine.scalarNumber('select count(*) from batch_rejected');
    if (rejectedLines > 0) {
      const local = ws.path('rejected.jsonl');
      await engine.run(
        `copy (select source_key as file, line_no as line, reason as error, text from batch_rejected order by 1, 2) to ${quoteLiteral(local)} (format json)`
      );
      await store.upload(
        FlattenLayout.quarantineRecords(feed, batchId),
        local,
        'application/x-ndjson'
      );
    }
    for (const file of unreadable) {
      const key = FlattenLayout.quarantineFile(feed, batchId, file.key);
      await store.upload(key, file.local);
      await store.put(
        `${key}.error.json`,
        JSON.stringify({ file: file.key, error: file.error, batchId }, null, 2),
        'application/json'
      );
    }

    const records = await engine.scalarNumber('select count(*) from batch_records');
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

    const perObject = await engine.all(
      'select source_key, count(*) as n from batch_records group by 1'
    );
    const rejectedPerObject = await engine.all(
      'select source_key, count(*) as n from batch_rejected group by 1'
    );
    const count = (rows: Record<string, unknown>[], key: string) =>
      Number(rows.find((row) => row.source_key === key)?.n ?? 0);
    for (const object of mine) {
      const broken = unreadable.some((file) => file.key === object.key) ? 1 : 0;
      await deps.ledger.succeed(
        object.key,
        batchId,
        {
          rowsWritten: count(perObject, object.key),
          rowsQuarantined: count(rejectedPerObject, object.key) + broken,
        },
        now()
      );
    }
    if (!deps.options.leaveInPlace) {
      const locals = new Map([...loaded, ...unreadable].map((entry) => [entry.key, entry.local]));
      for (const object of mine) {
        const local = locals.get(object.key);
        if (local) await store.upload(FlattenLayout.processed(object.key), local);
      }
      await store.delete(mine.map((object) => object.key));
    }
    return {
      feed,
      batchId,
      objects: mine.length,
      skipped: input.objects.length - mine.length,
      recordsRead,
      rowsWritten,
      recordsQuarantined,
      outputs,
      schemaKey,
    };
  });
};
