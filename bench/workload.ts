/** Options every workload gets from the command line. */
export interface BenchOptions {
  /** TPC-H scale factor of the generated warehouse. */
  scale: number;
  /** Timed repetitions after one warm-up; the median is reported. */
  repeat: number;
  /** A scratch directory for this workload, shared by its setup and its run. */
  dir: string;
  /** Raw (uncompressed) bytes of the generated nested backlog the flatten workload reads. */
  backlogBytes: number;
  /** Bytes of the single JSON-lines file the large-file flatten workload reads. */
  flattenBytes: number;
  /** Bytes of real webhook payloads the wide flatten workload reads. */
  wideBytes: number;
}

/** One line of the report: Strata against its baseline, measured in the same process. */
export interface Measurement {
  workload: string;
  unit: string;
  /** Work per repetition (rows, objects…), so throughput is `amount / seconds`. */
  amount: number;
  strataMs: number;
  baselineMs?: number;
  baseline?: string;
  /** Short name of the baseline for the ratio column, e.g. "DuckDB" → "0.62× DuckDB". */
  baselineName?: string;
  /** Strata throughput ÷ baseline throughput; 1 means as fast as the baseline. */
  ratio?: number;
  target?: number;
  peakRssMb: number;
  /** A ceiling the peak RSS should stay under, when the workload has one. */
  peakRssTargetMb?: number;
  notes?: string;
}

export interface Workload {
  name: string;
  description: string;
  /**
   * Untimed preparation in a process of its own, before `run` (same `options.dir`): what it
   * leaves there is run's input. Keeps the setup's memory out of the run's peak RSS.
   */
  setup?(options: BenchOptions): Promise<void>;
  /** One line of the report, or one per baseline when Strata is compared with several. */
  run(options: BenchOptions): Promise<Measurement | Measurement[]>;
}

/**
 * Median of timed runs after one warm-up run.
 *
 * @param repeat - timed repetitions (the warm-up is extra)
 * @param work - what is timed
 * @param before - untimed preparation before every run, warm-up included (e.g. reset state)
 */
export const medianMs = async (
  repeat: number,
  work: () => Promise<void>,
  before?: () => Promise<void>
): Promise<number> => {
  await before?.();
  await work();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    await before?.();
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return median(times);
};

/** The middle value (the upper of the two middle ones for an even count), 0 for none. */
const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * `work` that also records the CPU time this process spends in each run: every thread of it,
 * Node's and DuckDB's, but not the local S3 and ledger, which run in a process of their own.
 *
 * @param work - what {@link medianMs} times
 */
export const withCpuTime = (work: () => Promise<void>) => {
  const spent: number[] = [];
  return {
    work: async () => {
      const started = process.cpuUsage();
      await work();
      const { user, system } = process.cpuUsage(started);
      spent.push((user + system) / 1000);
    },
    /** The median CPU time of the timed runs, in ms ({@link medianMs}'s first run warms up). */
    medianMs: () => median(spent.slice(1)),
  };
};

/** The process's peak resident set so far, in MB. */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
