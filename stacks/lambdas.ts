// What each Lambda is built from, as plain data: stacks/ deploys these with sst.aws.Function and
// `npm run check:aws` bundles them the same way offline (scripts/check-aws/bundle.ts). Imports
// no SST global, so Node can load it outside `sst deploy`.

/**
 * Native packages esbuild cannot bundle. Every function leaves them external (the core barrels
 * reach them even where tree shaking then drops them); `nodejs.install` puts them in
 * node_modules/ of the functions whose bundle still imports them.
 */
export const NATIVE_PACKAGES = ['@duckdb/node-api', 'snowflake-sdk'] as const;
export type NativePackage = (typeof NATIVE_PACKAGES)[number];

/** How one function's code is built. */
export interface LambdaBuild {
  /** `<file without extension>.<export>`, from the project root. */
  handler: string;
  /** Installed beside the bundle, only where the handler loads them (DuckDB is ~147 MB). */
  install: NativePackage[];
  /** Files copied into the bundle's root, as `copyFiles` does. */
  copyFiles?: { from: string; to: string }[];
  /**
   * Its memory, MB: deployed as such, and given to the same handler in the local runtime, so
   * DuckDB is sized there as in Lambda (`functions/_shared/engine.ts`).
   */
  memoryMb: number;
}

/** Every function stacks/ deploys, by logical name. */
export const LAMBDAS = {
  // The configured warehouse's drivers: it checks that the warehouse answers.
  HealthCheck: {
    handler: 'functions/health-check.handler',
    install: ['@duckdb/node-api', 'snowflake-sdk'],
    memoryMb: 512,
  },
  PlanRun: { handler: 'functions/plan-run.handler', install: [], memoryMb: 256 },
  Extract: {
    handler: 'functions/extract.handler',
    install: ['@duckdb/node-api', 'snowflake-sdk'],
    memoryMb: 2048,
  },
  BronzeToSilver: {
    handler: 'functions/bronze-to-silver.handler',
    install: ['@duckdb/node-api'],
    memoryMb: 2048,
  },
  SilverToGold: {
    handler: 'functions/silver-to-gold.handler',
    install: ['@duckdb/node-api'],
    // The gold SQL models, read at run time from `models/gold/` beside the bundle.
    copyFiles: [{ from: 'packages/core/src/models', to: 'models' }],
    memoryMb: 2048,
  },
  FeatureIngest: {
    handler: 'functions/feature-ingest.handler',
    install: ['@duckdb/node-api'],
    // ml_features.sql, whose header is the feature contract the stage checks gold against.
    copyFiles: [{ from: 'packages/core/src/models', to: 'models' }],
    memoryMb: 1024,
  },
  PlanBacklog: { handler: 'functions/plan-backlog.handler', install: [], memoryMb: 1024 },
  FlattenBatch: {
    handler: 'functions/flatten-batch.handler',
    install: ['@duckdb/node-api'],
    // Two vCPUs (one per 1,769 MB), and DuckDB 2.1 GB: a 3,000-column feed needs over 1.1 GB.
    memoryMb: 3538,
  },
  Reconcile: {
    handler: 'functions/reconcile.handler',
    // It rewrites a column the run's batches typed differently in the files that hold it
    // narrower: as wide as FlattenBatch wrote them, and DuckDB's Parquet writer holds buffers for
    // every column (1,500 columns ran out of the 585 MiB 1,024 MB gave it).
    install: ['@duckdb/node-api'],
    memoryMb: 3538,
  },
} as const satisfies Record<string, LambdaBuild>;

export type LambdaName = keyof typeof LAMBDAS;

/**
 * The stage name a handler publishes its metrics under (functions/_shared/handler.ts): its
 * file's name, `functions/flatten-batch.handler` → `flatten-batch`.
 *
 * @param handler - a LambdaBuild handler
 */
export const stageOf = (handler: string): string =>
  handler.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
