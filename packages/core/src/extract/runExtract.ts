import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  type QueryConfig,
  quoteIdentifier,
  quoteLiteral,
  type StrataConfig,
} from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, isStrataError, QualityFailedError } from '../errors/index.js';
import { assertRunId, type BronzeFormat, datePartition, Lake } from '../lake/index.js';
import type {
  ColumnSpec,
  LineageColumn,
  ObjectStore,
  QueryOptions,
  Warehouse,
  WatermarkStore,
} from '../ports/index.js';
import { type ExtractStatement, extractStatement } from './incrementalSql.js';
import { claimWatermark, commitWatermark, type WatermarkClaim } from './watermarks.js';

/** The Extract map item, as Step Functions sends it. */
export const extractInputSchema = z.object({
  entity: z.string().min(1),
  runId: z.string().min(1),
  runDate: z.string().min(1),
  runStartedAt: z.iso.datetime({ offset: true }),
});

/** What the Extract map sends for one entity. */
export type ExtractInput = z.infer<typeof extractInputSchema>;

/** One committed bronze object. */
export interface BronzePart {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** The per-run manifest bronze-to-silver reads: exactly the parts this run committed. */
export interface BronzeManifest {
  entity: string;
  runId: string;
  mode: QueryConfig['mode'];
  format: BronzeFormat;
  sourceSystem: string;
  sourceQuerySha256: string;
  extractedAt: string;
  rows: number;
  bytes: number;
  columns: ColumnSpec[];
  /** The watermark range this run covered (incremental queries). */
  watermark?: { column: string; from?: string; to?: string };
  parts: BronzePart[];
}

export interface ExtractResult {
  entity: string;
  rows: number;
  parts: number;
  manifestKey: string;
}

export interface ExtractDeps {
  store: ObjectStore;
  warehouse: Warehouse;
  engine: DuckDbEngine;
  config: StrataConfig;
  watermarks: WatermarkStore;
  /** A claim older than this belongs to a run that died and may be taken over. */
  leaseSeconds?: number;
}

/** DuckDB type names only: a warehouse adapter's type string must never carry SQL. */
const DUCKDB_TYPE = /^[A-Z][A-Z0-9_ ]*(\(\d+(,\s*\d+)?\))?$/;

const columnsStruct = (columns: readonly ColumnSpec[]): string => {
  const fields = columns.map((column) => {
    quoteIdentifier(column.name);
    if (!DUCKDB_TYPE.test(column.type)) {
      throw new BadInputError(`column ${column.name}: unsupported type ${column.type}`);
    }
    return `${quoteLiteral(column.name)}: ${quoteLiteral(column.type)}`;
  });
  return `{${fields.join(', ')}}`;
};

const sha256File = async (path: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

/** Writes a query's result as one bronze object and describes it. */
const writePart = async (
  deps: ExtractDeps,
  ws: Workspace,
  select: string,
  key: string,
  format: BronzeFormat
): Promise<BronzePart> => {
  const local = ws.path(key.replaceAll('/', '_'));
  const options = format === 'json' ? 'format json' : 'format parquet, compression zstd';
  await deps.engine.run(`copy (\n${select}\n) to ${quoteLiteral(local)} (${options})`);
  const reader = format === 'json' ? 'read_json_objects' : 'read_parquet';
  const rows = await deps.engine.scalarNumber(
    `select count(*) from ${reader}(${quoteLiteral(local)})`
  );
  const contentType = format === 'json' ? 'application/x-ndjson' : 'application/vnd.apache.parquet';
  await deps.store.upload(key, local, contentType);
  return { key, rows, bytes: (await stat(local)).size, sha256: await sha256File(local) };
};

/** Uploads a finished Parquet part as it is. */
const uploadPart = async (
  deps: ExtractDeps,
  file: { path: string; rows: number },
  key: string
): Promise<BronzePart> => {
  await deps.store.upload(key, file.path, 'application/vnd.apache.parquet');
  return {
    key,
    rows: file.rows,
    bytes: (await stat(file.path)).size,
    sha256: await sha256File(file.path),
  };
};

/**
 * Reads a run's bronze manifest; a missing one is bad input to whoever asked for it.
 *
 * @param store - the lake
 * @param key - the manifest's key
 */
export const readBronzeManifest = async (
  store: ObjectStore,
  key: string
): Promise<BronzeManifest> => {
  const body = await store.get(key);
  if (!body) throw new BadInputError(`no bronze manifest at ${key}`);
  return parseManifest(body);
};

const parseManifest = (body: Uint8Array): BronzeManifest =>
  JSON.parse(new TextDecoder().decode(body)) as BronzeManifest;

/** Deletes parts of `runId` under the entity that are not in `keep`. */
const deleteRunParts = async (
  store: ObjectStore,
  entity: string,
  runId: string,
  keep: ReadonlySet<string> = new Set()
): Promise<void> => {
  // Listing the entity's prefix finds the run's parts in every date partition; it reads the
  // entity's key list once per run, which S3 serves at 1,000 keys per request.
  const stale: string[] = [];
  for await (const object of store.list(Lake.bronzePrefix(entity))) {
    if (Lake.isBronzePartOf(object.key, entity, runId) && !keep.has(object.key)) {
      stale.push(object.key);
    }
  }
  await store.delete(stale);
};

/**
 * Runs one configured query against the warehouse and writes its rows to bronze.
 *
 * Each batch of `batch_size` rows becomes `part-<run>-<n>` (Parquet or JSON lines) with lineage
 * columns, in the run date's partition or, with `partition_by`, in each row's own date
 * partition. The manifest is written after every part, and an incremental query's watermark
 * moves only after the manifest, with a conditional write; a replay of a run that already
 * committed returns its manifest instead of reading past its own watermark.
 *
 * @param input - entity and run identity
 * @param deps - lake, warehouse, engine, watermarks and the validated config
 */
export const runExtract = async (
  input: ExtractInput,
  deps: ExtractDeps
): Promise<ExtractResult> => {
  const runId = assertRunId(input.runId);
  datePartition(input.runDate);
  const query = deps.config.queries.find((candidate) => candidate.name === input.entity);
  if (!query) {
    const known = deps.config.queries.map((candidate) => candidate.name).join(', ');
    throw new BadInputError(`extract: unknown entity "${input.entity}" (configured: ${known})`);
  }
  const entity = query.name;
  const manifestKey = Lake.bronzeManifest(entity, runId);
  const resultOf = (manifest: BronzeManifest): ExtractResult => ({
    entity,
    rows: manifest.rows,
    parts: manifest.parts.length,
    manifestKey,
  });

  let claim: WatermarkClaim | undefined;
  if (query.mode === 'incremental') {
    const existing = await deps.store.get(manifestKey);
    claim = await claimWatermark(deps.watermarks, entity, runId, {
      hasManifest: existing !== undefined,
      leaseSeconds: deps.leaseSeconds,
    });
    if (claim.alreadyCommitted) {
      return resultOf(
        existing ? parseManifest(existing) : await readBronzeManifest(deps.store, manifestKey)
      );
    }
    if (claim.orphanRunId) {
      // A run that died after writing parts but before committing: its rows are re-read now.
      await deleteRunParts(deps.store, entity, claim.orphanRunId);
      await deps.store.delete([Lake.bronzeManifest(entity, claim.orphanRunId)]);
    }
  }

  try {
    const { manifest, high, ties } = await extractToBronze(input, deps, query, claim);
    await deps.store.put(manifestKey, JSON.stringify(manifest, null, 2), 'application/json');
    if (claim)
      await commitWatermark(deps.watermarks, claim, { high, ties: [...ties] }, manifestKey);
    return resultOf(manifest);
  } catch (error) {
    if (isStrataError(error)) {
      error.message = `extract ${entity}: ${error.message}`;
      throw error;
    }
    throw new BadInputError(`extract ${entity}: ${(error as Error).message}`, { cause: error });
  }
};

/** One batch on its way to bronze: a select over a local file, and the rows that move the watermark. */
interface StagedBatch {
  columns: ColumnSpec[];
  /** Selects the batch's rows (already without skipped ties) from a local file. */
  select: string;
  /** A Parquet file that already is a finished part (lineage included, no rows to skip). */
  readyPart?: { path: string; rows: number };
  /** The batch's rows in watermark order, or only its last rows (those at its highest value). */
  watermarkRows: readonly Record<string, unknown>[];
}

interface BatchSourceContext {
  lineage: readonly LineageColumn[];
  deps: ExtractDeps;
  ws: Workspace;
  query: QueryConfig;
  statement: ExtractStatement;
  options: QueryOptions;
  keyOf: (row: Record<string, unknown>) => string;
}

/** Rows through JavaScript: each batch is written as JSON lines and read back with the column types. */
async function* streamedBatches(context: BatchSourceContext): AsyncIterable<StagedBatch> {
  const { deps, ws, query, statement, options, keyOf } = context;
  const skip = statement.skipTies;
  const watermark = query.watermark_column ?? '';
  let n = 0;
  for await (const batch of deps.warehouse.query(statement.sql, options)) {
    const rows = skip
      ? batch.rows.filter(
          (row) => !(String(row[watermark]) === skip.value && skip.keys.has(keyOf(row)))
        )
      : batch.rows;
    if (rows.length === 0) continue;
    const local = ws.path(`batch-${n++}.jsonl`);
    await writeFile(local, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    yield {
      columns: [...batch.columns],
      select: `select * from read_json(${quoteLiteral(local)}, format = 'newline_delimited', columns = ${columnsStruct(batch.columns)})`,
      watermarkRows: rows,
    };
  }
}

/**
 * The warehouse writes Parquet itself, lineage included, so most files are finished parts. Only
 * a file holding rows at the stored watermark (the first: rows are in watermark order) is
 * rewritten without the tie keys already extracted.
 */
async function* unloadedBatches(context: BatchSourceContext): AsyncIterable<StagedBatch> {
  const { deps, ws, query, statement, options, lineage } = context;
  if (!deps.warehouse.unload) {
    throw new BadInputError(`unload: this warehouse adapter cannot unload; set unload to false`);
  }
  const dir = ws.path('unload');
  const files = await deps.warehouse.unload(statement.sql, {
    ...options,
    dir,
    lineage: [...lineage, { name: '_batch', value: 0, type: 'integer' }],
  });
  const watermark = query.watermark_column ? quoteIdentifier(query.watermark_column) : undefined;
  // The same text as keyOf: a JSON array of the key values as strings.
  const keyText = `to_json(list_value(${query.primary_key.map((c) => `cast(${quoteIdentifier(c)} as varchar)`).join(', ')}))`;
  const skip = statement.skipTies;
  const skipped =
    skip && watermark && skip.keys.size > 0
      ? `cast(${watermark} as varchar) = ${quoteLiteral(skip.value)} and ${keyText} in (${[...skip.keys].map(quoteLiteral).join(', ')})`
      : undefined;
  const lineageNames = new Set([...lineage.map((column) => column.name), '_batch']);
  // A warehouse may unload files in parallel, in no particular order (Snowflake's COPY INTO
  // does), so the new watermark is read once, over every file, and handed with the last one.
  const kept: { file: { path: string; rows: number }; select: string; dropped: number }[] = [];
  for (const unloaded of files) {
    const all = `select * from read_parquet(${quoteLiteral(unloaded.path)})`;
    const rows = unloaded.rows ?? (await deps.engine.scalarNumber(`select count(*) from (${all})`));
    const dropped = skipped
      ? await deps.engine.scalarNumber(`select count(*) from (${all}) where ${skipped}`)
      : 0;
    if (rows - dropped > 0) {
      const file = { path: unloaded.path, rows };
      kept.push({ file, select: dropped > 0 ? `${all} where not (${skipped})` : all, dropped });
    }
  }
  const [first] = kept;
  if (!first) return;
  const columns = (await deps.engine.all(`describe ${first.select}`))
    .map((row) => ({ name: String(row.column_name), type: String(row.column_type) }))
    .filter((column) => !lineageNames.has(column.name));
  const union = kept.map((entry) => `(${entry.select})`).join(' union all ');
  const watermarkRows = watermark
    ? await deps.engine.all(
        `select * from (${union}) where ${watermark} = (select max(${watermark}) from (${union}))`
      )
    : [];
  for (const [index, entry] of kept.entries()) {
    yield {
      columns,
      select: entry.select,
      ...(entry.dropped === 0
        ? { readyPart: { path: entry.file.path, rows: entry.file.rows } }
        : {}),
      watermarkRows: index === kept.length - 1 ? watermarkRows : [],
    };
  }
}

/** Extracts the query into bronze parts; returns their manifest and the new watermark. */
const extractToBronze = async (
  input: ExtractInput,
  deps: ExtractDeps,
  query: QueryConfig,
  claim: WatermarkClaim | undefined
): Promise<{ manifest: BronzeManifest; high?: string; ties: ReadonlySet<string> }> => {
  const { config } = deps;
  const runId = input.runId;
  const format = config.output_format;
  const statement = extractStatement(query, claim?.state);
  const sha = createHash('sha256').update(query.sql).digest('hex');
  const extractedAt = new Date(input.runStartedAt).toISOString();
  const lineage: LineageColumn[] = [
    { name: '_source_system', value: config.source_system, type: 'varchar' },
    { name: '_source_query_sha256', value: sha, type: 'varchar' },
    { name: '_extracted_at', value: extractedAt, type: 'timestamptz' },
    { name: '_execution_id', value: runId, type: 'varchar' },
  ];
  const lineageSql = [
    `${quoteLiteral(config.source_system)} as _source_system`,
    `${quoteLiteral(sha)} as _source_query_sha256`,
    `timestamptz ${quoteLiteral(extractedAt)} as _extracted_at`,
    `${quoteLiteral(runId)} as _execution_id`,
  ].join(', ');
  const watermarkColumn = query.watermark_column;
  // Key values as strings, so the streamed and the unloaded path spell a key the same way.
  const keyOf = (row: Record<string, unknown>) =>
    JSON.stringify(
      query.primary_key.map((column) => (row[column] == null ? null : String(row[column])))
    );
  let high = statement.skipTies?.value;
  let ties = new Set(statement.skipTies?.keys ?? []);

  return Workspace.use('extract', async (ws) => {
    const parts: BronzePart[] = [];
    let columns: ColumnSpec[] = [];
    let batches = 0;
    const context: BatchSourceContext = {
      lineage,
      deps,
      ws,
      query,
      statement,
      keyOf,
      options: {
        batchSize: config.batch_size,
        binds: statement.binds,
        queryTag: `strata:${runId}:${query.name}`,
        timeoutSeconds: query.timeout_seconds,
      },
    };
    for await (const batch of (query.unload ? unloadedBatches : streamedBatches)(context)) {
      // An unload has already read everything, in files of no guaranteed order: it cannot stop
      // at a watermark boundary, so max_batches bounds streamed extracts only.
      if (!query.unload && config.max_batches !== undefined && batches === config.max_batches) {
        if (query.mode === 'full_refresh') {
          throw new QualityFailedError(
            `more rows than max_batches (${config.max_batches}) × batch_size (${config.batch_size}); a full refresh cut short is not a snapshot`
          );
        }
        // Incremental: stop here; the watermark and tie set cover exactly what was written.
        break;
      }
      columns = batch.columns;
      if (watermarkColumn) {
        for (const row of batch.watermarkRows) {
          const value = row[watermarkColumn];
          // Rows arrive ordered by the watermark; NULLs carry no position and move nothing.
          if (value === null || value === undefined) continue;
          if (String(value) === high) ties.add(keyOf(row));
          else {
            high = String(value);
            ties = new Set([keyOf(row)]);
          }
        }
      }
      const n = batches++;
      if (batch.readyPart && !query.partition_by && format === 'parquet') {
        const key = Lake.bronzePart(query.name, input.runDate, runId, n, format);
        parts.push(await uploadPart(deps, batch.readyPart, key));
        continue;
      }
      const source = batch.readyPart
        ? batch.select
        : `select *, ${lineageSql}, ${n} as _batch from (${batch.select})`;
      parts.push(...(await writeBatch(deps, ws, { input, query, source, n, format })));
    }
    await deleteRunParts(deps.store, query.name, runId, new Set(parts.map((part) => part.key)));
    const manifest: BronzeManifest = {
      entity: query.name,
      runId,
      mode: query.mode,
      format,
      sourceSystem: config.source_system,
      sourceQuerySha256: sha,
      extractedAt,
      rows: parts.reduce((sum, part) => sum + part.rows, 0),
      bytes: parts.reduce((sum, part) => sum + part.bytes, 0),
      columns,
      ...(watermarkColumn
        ? { watermark: { column: watermarkColumn, from: statement.binds[0]?.toString(), to: high } }
        : {}),
      parts,
    };
    return { manifest, high, ties };
  });
};

/** Writes one batch: one part in the run date's partition, or one per `partition_by` date. */
const writeBatch = async (
  deps: ExtractDeps,
  ws: Workspace,
  batch: {
    input: ExtractInput;
    query: QueryConfig;
    source: string;
    n: number;
    format: BronzeFormat;
  }
): Promise<BronzePart[]> => {
  const { input, query, n, format } = batch;
  const name = Lake.bronzePartName(input.runId, n, format);
  if (!query.partition_by) {
    const key = Lake.bronzePart(query.name, input.runDate, input.runId, n, format);
    return [await writePart(deps, ws, batch.source, key, format)];
  }
  const table = quoteIdentifier(`batch_${n}`);
  const day = `cast(${quoteIdentifier(query.partition_by)} as date)`;
  await deps.engine.run(
    `create or replace temp table ${table} as select *, strftime(${day}, '%Y-%m-%d') as _partition_day from (${batch.source})`
  );
  const days = await deps.engine.all(
    `select distinct _partition_day as day from ${table} order by 1 nulls last`
  );
  const parts: BronzePart[] = [];
  for (const { day: value } of days) {
    const partition =
      value === null
        ? 'year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__'
        : datePartition(String(value));
    const where =
      value === null ? '_partition_day is null' : `_partition_day = ${quoteLiteral(String(value))}`;
    const key = `${Lake.bronzePrefix(query.name)}${partition}/${name}`;
    parts.push(
      await writePart(
        deps,
        ws,
        `select * exclude (_partition_day) from ${table} where ${where}`,
        key,
        format
      )
    );
  }
  await deps.engine.run(`drop table ${table}`);
  return parts;
};
