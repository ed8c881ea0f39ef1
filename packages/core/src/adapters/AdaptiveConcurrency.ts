/** How an {@link AdaptiveConcurrency} grows, shrinks and retries. */
export interface AdaptiveConcurrencyOptions {
  /** Calls in flight at the start. */
  initial: number;
  /** Never fewer in flight than this, however hard the service pushes back. */
  min: number;
  /** Never more in flight than this: the bound callers can rely on. */
  max: number;
  /** Attempts per item, the first included. */
  maxAttempts: number;
  /** The first retry waits up to this long; each next one up to twice as long. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Waits; tests pass one that does not. */
  sleep?: (ms: number) => Promise<void>;
  /** [0, 1); the jitter's source. */
  random?: () => number;
}

/** How one item ended: done, or the error that stopped it. */
export type ItemOutcome = { ok: true } | { ok: false; error: unknown };

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs calls to a service with as many in flight as it takes: AIMD, as TCP does. Each success
 * adds 1/limit to the limit (one more call per round of successes); a call the service pushes
 * back on (throttling, 5xx) halves it, once per round however many calls of that round fail, and
 * is retried after a backoff with full jitter (a random wait up to base × 2^attempt, capped), so
 * a storm of throttles spreads out instead of coming back at once.
 *
 * @example
 * const limiter = new AdaptiveConcurrency({ initial: 8, min: 1, max: 64, maxAttempts: 6, baseDelayMs: 50, maxDelayMs: 5000 });
 * const { outcomes, retried } = await limiter.each(records, put, isTransient);
 */
export class AdaptiveConcurrency {
  readonly #options: Required<AdaptiveConcurrencyOptions>;
  #limit: number;
  /** Rounds: a push-back halves the limit only if its call started after the last halving. */
  #round = 0;
  #inFlight = 0;
  #peak = 0;

  constructor(options: AdaptiveConcurrencyOptions) {
    if (options.min < 1 || options.max < options.min) {
      throw new Error(`concurrency bounds ${options.min}..${options.max} are not 1 ≤ min ≤ max`);
    }
    this.#options = { sleep: wait, random: Math.random, ...options };
    this.#limit = Math.min(options.max, Math.max(options.min, options.initial));
  }

  /** The current limit on calls in flight. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /** The most calls that were ever in flight at once. */
  get peak(): number {
    return this.#peak;
  }

  /**
   * Calls `call` once per item (more for those pushed back), with the limit in force.
   *
   * @param items - what to send
   * @param call - sends one item; rejects on failure
   * @param isRetryable - whether an error is the service pushing back (worth another attempt)
   * @returns each item's outcome, in order, and how many attempts were retried
   */
  async each<T>(
    items: readonly T[],
    call: (item: T) => Promise<void>,
    isRetryable: (error: unknown) => boolean
  ): Promise<{ outcomes: ItemOutcome[]; retried: number }> {
    const outcomes: ItemOutcome[] = new Array(items.length);
    const queue = items.map((_, index) => ({ index, attempt: 1 }));
    const running = new Set<Promise<void>>();
    let retried = 0;
    const attempt = async (job: { index: number; attempt: number }) => {
      const round = this.#round;
      this.#inFlight++;
      this.#peak = Math.max(this.#peak, this.#inFlight);
      try {
        await call(items[job.index] as T);
        outcomes[job.index] = { ok: true };
        this.#limit = Math.min(this.#options.max, this.#limit + 1 / this.#limit);
      } catch (error) {
        if (!isRetryable(error) || job.attempt >= this.#options.maxAttempts) {
          outcomes[job.index] = { ok: false, error };
          return;
        }
        if (round === this.#round) {
          this.#limit = Math.max(this.#options.min, this.#limit / 2);
          this.#round++;
        }
        retried++;
        this.#inFlight--;
        // The wait holds its slot: a call backing off is still pressure the limit counts.
        await this.#options.sleep(this.#backoff(job.attempt));
        this.#inFlight++;
        queue.push({ index: job.index, attempt: job.attempt + 1 });
      } finally {
        this.#inFlight--;
      }
    };
    while (queue.length > 0 || running.size > 0) {
      while (queue.length > 0 && running.size < this.limit) {
        const job = queue.shift() as { index: number; attempt: number };
        const run: Promise<void> = attempt(job).finally(() => running.delete(run));
        running.add(run);
      }
      if (running.size > 0) await Promise.race(running);
    }
    return { outcomes, retried };
  }

  /** Full jitter: anywhere from 0 to the capped exponential delay. */
  #backoff(attempt: number): number {
    const { baseDelayMs, maxDelayMs, random } = this.#options;
    return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
  }
}
