/**
 * What flattening a backlog costs and takes on AWS, from a per-core flatten throughput: Lambda,
 * Step Functions, S3 and the DynamoDB ledger, wall time at several concurrencies, next to an AWS
 * Glue estimate. Pure arithmetic, so it is unit-tested. Every price and assumption is in this
 * file: the benchmark prices the 9 TiB backlog with its measured rate, the CLI's `--dry-run` and
 * `strata report` price a plan or a run with {@link ASSUMED_PER_CORE}.
 */

/** The FlattenBatch function's memory (stacks/backfill.ts). */
export const FLATTEN_BATCH_MEMORY_MB = 3538;

const MIB = 1024 ** 2;
const TIB = 1024 ** 4;

/**
 * us-east-1 list prices, read from the AWS pricing pages (Lambda, Step Functions, S3, DynamoDB,
 * Glue) in November 2026. Lambda's and Express's cheaper volume tiers start far above what
 * the backlog uses, except Express duration, whose tiers are applied.
 */
export const PRICES = {
  asOf: 'us-east-1 list prices, November 2026',
  lambdaPerGbSecond: { arm64: 0.0000133334, x86: 0.0000166667 },
  lambdaPerRequest: 0.2 / 1e6,
  standardPerTransition: 0.025 / 1000,
  /** A STANDARD child of the map: its one Task state, and one more for a retry. */
  transitionsPerStandardChild: 2,
  expressPerRequest: 1 / 1e6,
  /** Per GB-second, by GB-hours used in the month: 1,000, then 4,000 more, then the rest. */
  expressPerGbSecond: [
    { gbHours: 1000, price: 0.00001667 },
    { gbHours: 4000, price: 0.00000833 },
    { gbHours: Number.POSITIVE_INFINITY, price: 0.00000456 },
  ],
  s3PerGet: 0.0004 / 1000,
  /** PUT, COPY, POST and LIST share a price; DELETE is free. */
  s3PerPutCopyList: 0.005 / 1000,
  /** S3 Standard, and Intelligent-Tiering's frequent tier, for the first 50 TB a month. */
  s3PerGbMonth: 0.023,
  dynamoPerWrite: 0.625 / 1e6,
  dynamoPerRead: 0.125 / 1e6,
  gluePerDpuHour: 0.44,
} as const;

/** Service limits that bound the wall time (defaults; the Lambda one can be raised). */
export const LIMITS = {
  /** Concurrent Lambda executions per account and region, by default. */
  lambdaConcurrency: 1000,
  /** Child executions a Distributed Map runs at once. */
  mapConcurrency: 10_000,
  /** Requests per second per partitioned S3 prefix, before S3 splits it further. */
  s3GetPerPrefix: 5500,
  s3PutCopyPerPrefix: 3500,
  lambdaTimeoutSeconds: 900,
  /** An EXPRESS execution ends after five minutes. */
  expressTimeoutSeconds: 300,
} as const;

/**
 * The per-core flatten rate a plan or a run is priced at when nothing better is known: the
 * CPU-time rate `flatten-backlog` measured on 2026-12-07 (bench/RESULTS.md), which models the
 * code rather than a loaded laptop. A local run's own rate says more about the laptop than
 * about a Lambda's arm64 core, so it is not used.
 */
export const ASSUMED_PER_CORE = {
  perCoreMBps: 25,
  source: "flatten-backlog's CPU-time rate, bench/RESULTS.md (2026-12-07)",
} as const;

export interface CostInputs {
  /** Strata's flatten throughput on one core (DuckDB threads=1), raw MiB per second. */
  perCoreMBps: number;
  /** A whole FlattenBatch's rate, raw MiB per second, where one is known: it replaces the per-core one. */
  perLambdaMBps?: number;
  /** Where that number comes from, for the printout. */
  source: string;
  totalBytes: number;
  objects: number;
  /**
   * The batches a plan made, when one was made (its packing also closes a batch at a file
   * count); else `totalBytes` is taken as whole batches of `batchBytes`.
   */
  batches?: number;
  memoryMb: number;
  /** Lambda gives one vCPU per 1,769 MB. */
  mbPerVcpu: number;
  /** DuckDB threads per vCPU (engineOptions sets one per vCPU). */
  threadsPerVcpu: number;
  /** Speed-up per added thread as a fraction of linear: 2 threads run at 2 × this × one. */
  scalingEfficiency: number;
  /** The planner's target batch size (plan-backlog's default, 256 MiB). */
  batchBytes: number;
  /** Parquet objects a batch writes: one per day × mode partition it touches. */
  outputPartsPerBatch: number;
  /** Source prefixes the raw objects spread over (S3 request rates are per prefix). */
  rawPrefixes: number;
  /** Spark/Glue JSON → Parquet throughput per G.1X DPU (4 vCPU, 16 GB), raw MiB per second. */
  glueMBpsPerDpu: number;
  glueWorkers: number;
  /** Seconds the planner spends per 1,000 listed keys (one LIST page plus ledger look-ups). */
  planSecondsPerPage: number;
  /**
   * Days the version a move leaves under raw/ is stored beside its raw-processed/ copy: the
   * lake is versioned, and stacks/storage.ts ('raw-moved-versions') expires it after a day,
   * which S3 rounds up to the next midnight UTC.
   */
  rawNoncurrentDays: number;
  concurrencies: readonly number[];
}

/** The assumptions the printout states; only `perCoreMBps` and `source` come from the bench. */
export const DEFAULT_COST_INPUTS: Omit<CostInputs, 'perCoreMBps' | 'source'> = {
  totalBytes: 9 * TIB,
  objects: 2_000_000,
  memoryMb: FLATTEN_BATCH_MEMORY_MB,
  mbPerVcpu: 1769,
  threadsPerVcpu: 1,
  // toolchain-facts: DuckDB JSON → Parquet 105 MB/s on 1 thread, 166 MB/s on 2 (0.79 of linear).
  scalingEfficiency: 0.79,
  batchBytes: 256 * MIB,
  outputPartsPerBatch: 20,
  rawPrefixes: 1,
  // Assumed, not measured (no Spark here): ~20 MiB/s per vCPU for Spark's JSON reader with a
  // schema; small files and DynamicFrame schema inference make real jobs slower.
  glueMBpsPerDpu: 80,
  glueWorkers: 100,
  planSecondsPerPage: 0.1,
  rawNoncurrentDays: 2,
  concurrencies: [100, 1000, 5000],
};

/** One priced quantity. */
export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  arm64: number;
  x86: number;
}

export interface WallTime {
  concurrency: number;
  /** Batches actually in flight: the concurrency, unless something else binds first. */
  effective: number;
  boundBy: string;
  seconds: number;
}

export interface CostEstimate {
  inputs: CostInputs;
  perLambdaMBps: number;
  batches: number;
  secondsPerBatch: number;
  lines: CostLine[];
  total: { arm64: number; x86: number };
  /**
   * What the map's children cost as STANDARD executions (priced in `lines`) and what they would
   * as EXPRESS: requests plus duration in 64 MB.
   */
  children: { standard: number; express: number };
  glue: { dpuHours: number; cost: number; seconds: number };
  wall: WallTime[];
  warnings: string[];
}

/**
 * Express duration in dollars for `gbSeconds`, through the monthly tiers.
 *
 * @param gbSeconds - GB-seconds of all child executions
 */
export const expressDurationCost = (gbSeconds: number): number => {
  let left = gbSeconds / 3600;
  let cost = 0;
  for (const tier of PRICES.expressPerGbSecond) {
    const used = Math.min(left, tier.gbHours);
    cost += used * 3600 * tier.price;
    left -= used;
  }
  return cost;
};

const line = (item: string, quantity: number, unit: string, arm64: number, x86 = arm64) => ({
  item,
  quantity,
  unit,
  arm64,
  x86,
});

/**
 * Prices the backfill of `inputs.totalBytes` in `inputs.objects` objects, one FlattenBatch
 * invocation (one STANDARD child execution) per planned batch.
 *
 * @param inputs - the measured throughput and the stated assumptions
 */
export const estimateCost = (inputs: CostInputs): CostEstimate => {
  const vcpus = inputs.memoryMb / inputs.mbPerVcpu;
  const threads = Math.max(1, Math.floor(vcpus * inputs.threadsPerVcpu));
  const speedup = threads === 1 ? 1 : threads * inputs.scalingEfficiency;
  const perLambdaMBps = inputs.perLambdaMBps ?? inputs.perCoreMBps * speedup;
  const totalMiB = inputs.totalBytes / MIB;
  const batches = inputs.batches ?? Math.ceil(inputs.totalBytes / inputs.batchBytes);
  const batchMiB = inputs.batches ? totalMiB / inputs.batches : inputs.batchBytes / MIB;
  const secondsPerBatch = batchMiB / perLambdaMBps;
  const lambdaSeconds = totalMiB / perLambdaMBps;
  const gbSeconds = (lambdaSeconds * inputs.memoryMb) / 1024;
  // An EXPRESS child lasts as long as its Lambda, billed per 100 ms in 64 MB chunks.
  const childGbSeconds = batches * (Math.ceil(secondsPerBatch * 10) / 10) * (64 / 1024);
  const childTransitions = batches * PRICES.transitionsPerStandardChild;
  const standardChildren = childTransitions * PRICES.standardPerTransition;
  const expressChildren = batches * PRICES.expressPerRequest + expressDurationCost(childGbSeconds);
  const listPages = Math.ceil(inputs.objects / 1000);
  const noncurrentGbMonths = (inputs.totalBytes / 1024 ** 3) * (inputs.rawNoncurrentDays / 30);
  const puts = batches * (inputs.outputPartsPerBatch + 1) + 1;

  const lines: CostLine[] = [
    line(
      'Lambda compute (FlattenBatch)',
      gbSeconds,
      'GB-s',
      gbSeconds * PRICES.lambdaPerGbSecond.arm64,
      gbSeconds * PRICES.lambdaPerGbSecond.x86
    ),
    line('Lambda requests', batches + 2, 'invocations', (batches + 2) * PRICES.lambdaPerRequest),
    line(
      'Step Functions standard transitions (parent; 1 per child started)',
      batches + 4,
      'transitions',
      (batches + 4) * PRICES.standardPerTransition
    ),
    line(
      `Step Functions STANDARD child transitions (${PRICES.transitionsPerStandardChild} per child)`,
      childTransitions,
      'transitions',
      standardChildren
    ),
    line(
      'S3 GET (one per raw object, plan manifest)',
      inputs.objects + 1,
      'requests',
      (inputs.objects + 1) * PRICES.s3PerGet
    ),
    line(
      `S3 PUT (${inputs.outputPartsPerBatch} Parquet parts + 1 schema fragment per batch, plan)`,
      puts,
      'requests',
      puts * PRICES.s3PerPutCopyList
    ),
    line(
      'S3 COPY to raw-processed/ (DELETE is free)',
      inputs.objects,
      'requests',
      inputs.objects * PRICES.s3PerPutCopyList
    ),
    line(
      `S3 storage of the raw/ versions the move leaves (${inputs.rawNoncurrentDays} days)`,
      noncurrentGbMonths,
      'GB-months',
      noncurrentGbMonths * PRICES.s3PerGbMonth
    ),
    line(
      'S3 LIST (1,000 keys per page)',
      listPages,
      'requests',
      listPages * PRICES.s3PerPutCopyList
    ),
    line(
      'DynamoDB ledger writes (claim + succeed per object)',
      2 * inputs.objects,
      'WRU',
      2 * inputs.objects * PRICES.dynamoPerWrite
    ),
    line(
      'DynamoDB ledger reads (plan + batch look-up per object)',
      2 * inputs.objects,
      'RRU',
      2 * inputs.objects * PRICES.dynamoPerRead
    ),
  ];
  const total = {
    arm64: lines.reduce((sum, l) => sum + l.arm64, 0),
    x86: lines.reduce((sum, l) => sum + l.x86, 0),
  };

  // Each running batch fetches (and later copies) objects at this rate; S3 caps both per prefix.
  const objectMiB = totalMiB / inputs.objects;
  const requestsPerLambda = perLambdaMBps / objectMiB;
  const s3Cap = Math.max(
    1,
    Math.floor(
      (inputs.rawPrefixes * Math.min(LIMITS.s3GetPerPrefix, LIMITS.s3PutCopyPerPrefix)) /
        requestsPerLambda
    )
  );
  const planSeconds = listPages * inputs.planSecondsPerPage;
  const wall = inputs.concurrencies.map((concurrency): WallTime => {
    const caps: [number, string][] = [
      [
        concurrency,
        concurrency > LIMITS.lambdaConcurrency
          ? 'concurrency (Lambda quota raised)'
          : 'concurrency',
      ],
      [LIMITS.mapConcurrency, 'Distributed Map limit'],
      [s3Cap, 'S3 request rate per prefix'],
      [batches, 'number of batches'],
    ];
    const [effective, boundBy] = caps.reduce((low, cap) => (cap[0] < low[0] ? cap : low));
    return {
      concurrency,
      effective,
      boundBy,
      seconds: planSeconds + Math.ceil(batches / effective) * secondsPerBatch,
    };
  });

  const glueDpuHours = totalMiB / inputs.glueMBpsPerDpu / 3600;
  const over = (limit: number, what: string) =>
    secondsPerBatch > limit
      ? `a ${Math.round(inputs.batchBytes / MIB)} MiB batch takes ${Math.round(secondsPerBatch)} s, over ${what} (${limit} s): plan smaller batches`
      : '';
  const warnings = [
    over(LIMITS.lambdaTimeoutSeconds / 2, "the planner's budget, half FlattenBatch's timeout"),
  ].filter(Boolean);
  return {
    inputs,
    perLambdaMBps,
    batches,
    secondsPerBatch,
    lines,
    total,
    children: { standard: standardChildren, express: expressChildren },
    glue: {
      dpuHours: glueDpuHours,
      cost: glueDpuHours * PRICES.gluePerDpuHour,
      seconds: (glueDpuHours / inputs.glueWorkers) * 3600,
    },
    wall,
    warnings,
  };
};

/**
 * Prices a plan or a run of `totalBytes` in `objects` objects and `batches` batches at the
 * stated defaults: {@link ASSUMED_PER_CORE}, FlattenBatch's memory on arm64 and x86, and
 * {@link PRICES}.
 *
 * @example
 * const { total } = estimatePlanCost({ totalBytes: 2 ** 30, objects: 120, batches: 4 });
 * console.log(`$${total.arm64.toFixed(4)} on arm64`);
 * @param plan - what the plan holds
 * @param rate - a batch's rate to price at instead, and where it comes from
 */
export const estimatePlanCost = (
  plan: { totalBytes: number; objects: number; batches: number },
  rate?: { perLambdaMBps: number; source: string }
): CostEstimate => estimateCost({ ...DEFAULT_COST_INPUTS, ...ASSUMED_PER_CORE, ...plan, ...rate });

/**
 * The assumptions behind {@link estimatePlanCost}, one sentence each, for a printout.
 *
 * @param estimate - the estimate
 */
export const costAssumptions = (estimate: CostEstimate): string[] => [
  `${PRICES.asOf}; Lambda on arm64 (x86 $${estimate.total.x86.toFixed(4)})`,
  `FlattenBatch at ${estimate.inputs.memoryMb.toLocaleString('en-US')} MB (${(estimate.inputs.memoryMb / estimate.inputs.mbPerVcpu).toFixed(1)} vCPU), one STANDARD child execution per batch, no retries`,
  estimate.inputs.perLambdaMBps === undefined
    ? `${estimate.inputs.perCoreMBps} MiB/s per core: ${estimate.inputs.source}`
    : `${Number(estimate.inputs.perLambdaMBps.toPrecision(3))} MiB/s per batch: ${estimate.inputs.source}`,
  `no storage afterwards (silver, raw-processed/): S3 Standard is $${PRICES.s3PerGbMonth} per GB-month`,
];
