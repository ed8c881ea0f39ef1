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

/** One extract query: its rows become the bronze entity of the same name. */
export const querySchema = z.object({
  name: entityName,
  sql: z.string().trim().min(1, { message: 'must not be empty' }),
  primary_key: z.array(identifier).min(1, { message: 'needs at least one column' }),
});

/** The whole pipeline configuration, stored in the lake at `_config/strata.json`. */
export const configSchema = z
  .object({
    source_system: z.string().min(1).default('snowflake'),
    warehouse: z.discriminatedUnion('type', [duckDbWarehouse]),
    batch_size: z.number().int().min(1).max(1_000_000).default(100_000),
    queries: z.array(querySchema).min(1, { message: 'needs at least one query' }),
    feature_group: z
      .string()
      .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9]){0,63}$/, {
        message: 'must be a SageMaker feature group name (letters, digits, -)',
      })
      .default('strata-customer-features'),
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
  });

export type StrataConfig = z.output<typeof configSchema>;
export type QueryConfig = z.output<typeof querySchema>;
