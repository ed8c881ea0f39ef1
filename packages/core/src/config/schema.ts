import { z } from 'zod';
import { isIdentifier } from './identifiers.js';

const identifier = z.string().refine(isIdentifier, {
  message: 'must be a plain SQL identifier (letters, digits, _; not starting with a digit)',
});

/** An entity name doubles as a lake prefix, so it is lower snake case. */
const entityName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, {
  message: 'must be lower snake case (a-z, 0-9, _), starting with a letter',
});

/** The embedded DuckDB warehouse; `path` is the database file holding the source tables. */
const duckDbWarehouse = z.object({
  type: z.literal('duckdb'),
  path: z.string().min(1),
  /** Attached under this catalog name, so Snowflake-style three-part names resolve unchanged. */
  database: identifier.default('snowflake_sample_data'),
});

/** Snowflake with key-pair authentication; the private key comes from Secrets Manager. */
const snowflakeWarehouse = z.object({
  type: z.literal('snowflake'),
  account: z.string().min(1),
  username: z.string().min(1),
  role: z.string().min(1).optional(),
  warehouse: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  /** Secrets Manager secret id (name or ARN) holding the PEM private key. */
  private_key_secret_id: z.string().min(1),
  /**
   * An external stage over the lake's `_unload/` prefix, for queries with `unload`: Snowflake
   * writes their Parquet there with COPY INTO instead of streaming rows.
   */
  unload_stage: z
    .string()
    .regex(/^@[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$/, {
      message: 'must be a stage name such as @STRATA.PUBLIC.LAKE_UNLOAD',
    })
    .optional(),
});

/**
 * One extract query: its rows become the bronze entity of the same name.
 *
 * `incremental` queries read only rows whose `watermark_column` moved past the stored
 * watermark; `full_refresh` queries read everything every run.
 */
export const querySchema = z
  .object({
    name: entityName,
    sql: z.string().trim().min(1, { message: 'must not be empty' }),
    primary_key: z.array(identifier).min(1, { message: 'needs at least one column' }),
    mode: z.enum(['incremental', 'full_refresh']).optional(),
    watermark_column: identifier.optional(),
    /** Re-read rows this far behind the watermark (seconds for times, units for numbers). */
    lookback: z.number().positive().optional(),
    /** A date or timestamp column that picks each row's bronze year/month/day partition. */
    partition_by: identifier.optional(),
    /**
     * How the silver table is partitioned: by a date column's `year`, `month` or `day`, or a
     * numeric column in ranges of `by` values. An incremental run rewrites only the partitions
     * its rows fall in (docs/silver-and-gold.md); none: one file, rewritten every run.
     */
    silver_partition: z
      .object({
        column: identifier,
        by: z.union([z.enum(['year', 'month', 'day']), z.number().int().positive()]),
      })
      .strict()
      .optional(),
    timeout_seconds: z.number().int().min(1).max(86_400).default(3_600),
    /**
     * Let the warehouse write Parquet itself (Snowflake `COPY INTO @stage`, DuckDB `COPY TO`)
     * instead of streaming rows through the function: the fast path for large tables.
     */
    unload: z.boolean().default(false),
    /**
     * What silver promises about the entity's columns beyond the warehouse's types (every text
     * column is trimmed, and empty text is null, contract or not): see docs/silver-and-gold.md.
     */
    contract: z
      .object({
        /** Columns a row must have: a row with a null in one is quarantined with the column. */
        required: z.array(identifier).default([]),
        /** Text columns stored in upper or lower case. */
        upper: z.array(identifier).default([]),
        lower: z.array(identifier).default([]),
        /** Phone numbers, stored as `+` and their 7 to 15 digits when they have that many. */
        phone: z.array(identifier).default([]),
        /** Addresses, stored with each run of white space as one space. */
        address: z.array(identifier).default([]),
      })
      .strict()
      .optional(),
    /**
     * Keep the entity's history as a slowly changing dimension (type 2) in its own silver table
     * beside the current one: a version per change of the `tracked` columns (compared by a hash,
     * so an unchanged row makes no version), with a surrogate key, `valid_from`, `valid_to` and
     * `is_current`; a deleted row closes its version.
     */
    history: z
      .object({
        /** The history table's name, e.g. `dim_customers`. */
        table: entityName,
        /** The surrogate key column, unique per version. */
        surrogate_key: identifier,
        /** Columns whose change makes a new version; the others are updated in place. */
        tracked: z.array(identifier).min(1, { message: 'needs at least one column' }),
      })
      .strict()
      .optional(),
  })
  .transform((query) => ({
    ...query,
    mode: query.mode ?? (query.watermark_column ? 'incremental' : 'full_refresh'),
  }))
  .superRefine((query, ctx) => {
    if (query.mode === 'incremental' && !query.watermark_column) {
      ctx.addIssue({
        code: 'custom',
        path: ['watermark_column'],
        message: 'required when incremental',
      });
    }
    if (query.lookback !== undefined && query.mode !== 'incremental') {
      ctx.addIssue({ code: 'custom', path: ['lookback'], message: 'only applies to incremental' });
    }
  });

/** A path from a record's top through its objects: `payload.meta.updated_at`. */
const dottedPath = z
  .string()
  .regex(/^[^.]+(\.[^.]+)*$/, { message: 'must be a dotted path like payload.items' });

/**
 * How one raw JSON feed (`raw/<feed>/`) is flattened into `silver/<feed>/`. Every field has a
 * default, so a feed that is not configured is flattened with them.
 */
export const feedSchema = z
  .object({
    /** Joins nested keys into column names; underscores only, as Glue and Athena want. */
    separator: z
      .string()
      .regex(/^_{1,3}$/, { message: 'must be one to three underscores' })
      .default('_'),
    /**
     * Objects nested deeper than this stay one JSON column. Unset: a wide batch is typed at
     * any depth, a narrow one planned from its sample down to 3.
     */
    max_depth: z.number().int().min(1).max(10).optional(),
    /**
     * The record fields (dotted paths, any depth) the silver folders are partitioned by:
     * `date` gives year/month/day (ISO text, epoch seconds or milliseconds, or text in
     * `date_format`), `mode` a mode folder; each optional, none by default.
     */
    partition: z
      .object({
        date: dottedPath.optional(),
        mode: dottedPath.optional(),
        /** A strptime format (`%d/%m/%Y`) the date's text is read with instead of ISO 8601. */
        date_format: z.string().min(2).optional(),
      })
      .strict()
      .refine((partition) => partition.date_format === undefined || partition.date !== undefined, {
        message: 'date_format needs a date',
        path: ['date_format'],
      })
      .default({}),
    /** Keep raw objects where they are instead of moving them to raw-processed/. */
    leave_in_place: z.boolean().default(false),
    /**
     * Arrays (dotted paths from the record's top, e.g. `payload.items`) written as child tables
     * `silver/<feed>__<path>/`, one row per element, instead of as a JSON column.
     */
    explode: z.array(dottedPath).default([]),
    /**
     * Whether arrays of objects become child tables `silver/<feed>__<path>/` (the default) or,
     * `false`, stay JSON text unless listed in `explode`: each child table is a write of its
     * own, which a speed-bound feed whose arrays nobody queries may spare (docs/flatten.md).
     */
    child_tables: z.boolean().default(true),
    /**
     * When a batch lists every record's keys before it writes: `when-needed` (a batch whose
     * sample shows every key is written in one read) or `always` (a feed whose sample keeps
     * missing keys then skips the read that would fail).
     */
    key_pass: z.enum(['when-needed', 'always']).default('when-needed'),
    /**
     * When a batch is typed from DuckDB's inference over all its records, each path read
     * natively (docs/wide-json.md): `wide` (its sample shows a wide record), `always`, `never`.
     */
    infer: z.enum(['wide', 'always', 'never']).default('wide'),
  })
  .strict();

/** The whole pipeline configuration, stored in the lake at `_config/strata.json`. */
export const configSchema = z
  .object({
    source_system: z.string().min(1).default('snowflake'),
    warehouse: z.discriminatedUnion('type', [duckDbWarehouse, snowflakeWarehouse]),
    /** Rows per bronze part. */
    batch_size: z.number().int().min(1).max(1_000_000).default(100_000),
    /** A run stops after this many parts per query; incremental queries resume next run. */
    max_batches: z.number().int().min(1).optional(),
    /** Attempts the warehouse adapter makes on a transient failure before giving up. */
    max_retries: z.number().int().min(0).max(10).default(3),
    output_format: z.enum(['parquet', 'json']).default('parquet'),
    queries: z.array(querySchema).min(1, { message: 'needs at least one query' }),
    feature_group: z
      .string()
      .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9]){0,63}$/, {
        message: 'must be a SageMaker feature group name (letters, digits, -)',
      })
      .default('strata-customer-features'),
    /** How feature-ingest spreads its records over invocations and when it gives up. */
    feature_ingest: z
      .object({
        /** Records per PutRecord round and per marker: what a retry resends at most. */
        records_per_batch: z.number().int().min(1).max(10_000).default(500),
        /**
         * Records per invocation of the Map over ranges: 20,000 take 400 s even at 50 records/s
         * (one call in flight at 20 ms), inside the function's 900 s; an invocation that runs
         * short of time stops between batches and its retry resumes from the markers.
         */
        records_per_range: z.number().int().min(1).max(1_000_000).default(20_000),
        /** The share of changed records that may fail (to the dead-letter queue) before the stage fails. */
        max_failed_share: z.number().min(0).max(1).default(0.01),
        /**
         * The share of the records last sent that one run may delete (records gone from gold,
         * customers deleted at the source: a fraction of a percent a day). Past it the run
         * deletes none and reports them held, since an emptied or truncated gold is likelier
         * than a mass deletion; raise it for a run that means it.
         */
        max_deleted_share: z.number().min(0).max(1).default(0.05),
      })
      .strict()
      .prefault({}),
    /**
     * The circuit breakers around the warehouse and the feature store (packages/core/src/breaker):
     * open after `failure_threshold` consecutive transient failures, refuse every call for
     * `cooldown_seconds`, then let one probe through.
     */
    circuit_breaker: z
      .object({
        failure_threshold: z.number().int().min(1).max(100).default(5),
        cooldown_seconds: z.number().int().min(1).max(3600).default(120),
      })
      .strict()
      .default({ failure_threshold: 5, cooldown_seconds: 120 }),
    /** The raw JSON feeds the backfill and the weekly sync flatten, by name. */
    feeds: z.record(entityName, feedSchema).default({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.queries.forEach((query, index) => {
      if (seen.has(query.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['queries', index, 'name'],
          message: `duplicates an earlier query named "${query.name}"`,
        });
      }
      seen.add(query.name);
    });
    config.queries.forEach((query, index) => {
      // A history table is a silver dataset of its own: it must not take an entity's name.
      if (query.history && seen.has(query.history.table)) {
        ctx.addIssue({
          code: 'custom',
          path: ['queries', index, 'history', 'table'],
          message: `"${query.history.table}" is already a query's name`,
        });
      }
    });
  });

export type StrataConfig = z.output<typeof configSchema>;
export type QueryConfig = z.output<typeof querySchema>;
export type FeedConfig = z.output<typeof feedSchema>;
