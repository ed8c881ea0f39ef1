/**
 * Time as the emulator measures limits on it, such as the 5 minutes an EXPRESS child may run. The
 * real clock serves the CLI; tests drive a {@link ManualClock} instead of sleeping.
 */
export interface LocalClock {
  /**
   * Resolves once `ms` milliseconds have passed on this clock; never, once `signal` aborts.
   *
   * @param ms - how long from now
   * @param signal - cancels the wait
   */
  after(ms: number, signal: AbortSignal): Promise<void>;
}

/** Wall-clock time. */
export const realClock: LocalClock = {
  after: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }),
};

/**
 * A clock that moves only when told to, so a test can let a child run for six emulated minutes
 * without waiting for them.
 *
 * @example
 * const clock = new ManualClock();
 * // in a Task handler: clock.advance(6 * 60_000);
 */
export class ManualClock implements LocalClock {
  #now = 0;
  readonly #waiting = new Set<{ at: number; resolve: () => void }>();

  after(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wait = { at: this.#now + ms, resolve };
      this.#waiting.add(wait);
      signal.addEventListener('abort', () => this.#waiting.delete(wait), { once: true });
    });
  }

  /**
   * Moves the clock forward and releases every wait now due.
   *
   * @param ms - how far
   */
  advance(ms: number): void {
    this.#now += ms;
    for (const wait of this.#waiting) {
      if (wait.at > this.#now) continue;
      this.#waiting.delete(wait);
      wait.resolve();
    }
  }
}
