/** Options every workload gets from the command line. */
export interface BenchOptions {
  /** TPC-H scale factor of the generated warehouse. */
  scale: number;
  /** Timed repetitions after one warm-up; the median is reported. */
  repeat: number;
  /** A scratch directory for this run. */
  dir: string;
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
  /** Strata throughput ÷ baseline throughput; 1 means as fast as the baseline. */
  ratio?: number;
  target?: number;
  peakRssMb: number;
  notes?: string;
}

export interface Workload {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<Measurement>;
}

/** Median of timed runs after one warm-up run. */
export const medianMs = async (repeat: number, work: () => Promise<void>): Promise<number> => {
  await work();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
};

/** The process's peak resident set so far, in MB. */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
