import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { quoteIdentifier, quoteLiteral, type StrataConfig } from '../config/index.js';
import { type DuckDbEngine, Workspace } from '../engine/index.js';
import { BadInputError, isStrataError } from '../errors/index.js';
import { assertRunId, Lake, writeParquetObject } from '../lake/index.js';
import type { ColumnSpec, ObjectStore, Warehouse } from '../ports/index.js';

/** The Extract map item, as Step Functions sends it. */
export const extractInputSchema = z.object({
  entity: z.string().min(1),
  runId: z.string().min(1),
  runDate: z.string().min(1),
  runStartedAt: z.iso.datetime({ offset: true }),
});

/** What the Extract map sends for one entity. */
export interface ExtractInput {
  entity: string;
  runId: string;
  runDate: string;
  /** The execution's start time: stamped on every row, so a retry writes identical parts. */
  runStartedAt: string;
}

/** The per-run manifest bronze-to-silver reads: exactly the parts this run committed. */
export interface BronzeManifest {
  entity: string;
  runId: string;
  sourceSystem: string;
  sourceQuerySha256: string;
  extractedAt: string;
  rows: number;
  columns: ColumnSpec[];
  parts: { key: string; rows: number }[];
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

/**
 * Runs one configured query against the warehouse and writes its rows to bronze as Parquet.
 *
 * Each batch of `batch_size` rows becomes `part-<run>-<n>.parquet` with lineage columns; parts a
 * previous attempt of the same run left beyond the last one are removed, and the manifest is
 * written last, so downstream sees either the complete set of parts or none.
 *
 * @param input - entity and run identity
 * @param deps - lake, warehouse, engine and the validated config
 */
export const runExtract = async (
  input: ExtractInput,
  deps: ExtractDeps
): Promise<ExtractResult> => {
  const runId = assertRunId(input.runId);
  const query = deps.config.queries.find((candidate) => candidate.name === input.entity);
  if (!query) {
    const known = deps.config.queries.map((candidate) => candidate.name).join(', ');
    throw new BadInputError(`extract: unknown entity "${input.entity}" (configured: ${known})`);
  }
  const sha = createHash('sha256').update(query.sql).digest('hex');
  const extractedAt = new Date(input.runStartedAt).toISOString();
  const lineage = [
    `${quoteLiteral(deps.config.source_system)} as _source_system`,
    `${quoteLiteral(sha)} as _source_query_sha256`,
    `timestamptz ${quoteLiteral(extractedAt)} as _extracted_at`,
    `${quoteLiteral(runId)} as _execution_id`,
  ];

  return Workspace.use('extract', async (ws) => {
    const parts: BronzeManifest['parts'] = [];
    let columns: ColumnSpec[] = [];
    try {
      for await (const batch of deps.warehouse.query(query.sql, {
        batchSize: deps.config.batch_size,
      })) {
        columns = [...batch.columns];
        if (batch.rows.length === 0) continue;
        const n = parts.length;
        const local = ws.path(`batch-${n}.jsonl`);
        await writeFile(local, `${batch.rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
        const key = Lake.bronzePart(input.entity, input.runDate, runId, n);
        const rows = await writeParquetObject(
          { engine: deps.engine, ws, store: deps.store },
          `select *, ${lineage.join(', ')}, ${n} as _batch from read_json(${quoteLiteral(local)}, format = 'newline_delimited', columns = ${columnsStruct(columns)})`,
          key
        );
        parts.push({ key, rows });
      }
    } catch (error) {
      if (isStrataError(error)) {
        error.message = `extract ${input.entity}: ${error.message}`;
        throw error;
      }
      throw new BadInputError(`extract ${input.entity}: ${(error as Error).message}`, {
        cause: error,
      });
    }

    const written = new Set(parts.map((part) => part.key));
    const stale: string[] = [];
    for await (const object of deps.store.list(
      Lake.bronzeRunPrefix(input.entity, input.runDate, runId)
    )) {
      const own = Lake.isBronzePartOf(object.key, input.entity, input.runDate, runId);
      if (own && !written.has(object.key)) stale.push(object.key);
    }
    await deps.store.delete(stale);

    const manifest: BronzeManifest = {
      entity: input.entity,
      runId,
      sourceSystem: deps.config.source_system,
      sourceQuerySha256: sha,
      extractedAt,
      rows: parts.reduce((sum, part) => sum + part.rows, 0),
      columns,
      parts,
    };
    const manifestKey = Lake.bronzeManifest(input.entity, runId);
    await deps.store.put(manifestKey, JSON.stringify(manifest, null, 2), 'application/json');
    return { entity: input.entity, rows: manifest.rows, parts: parts.length, manifestKey };
  });
};
