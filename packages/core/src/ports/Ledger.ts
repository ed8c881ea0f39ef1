/** Where one raw object is in the backlog. */
export type LedgerStatus = 'PENDING' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

/** The ledger's record of one raw object. */
export interface LedgerEntry {
  /** The raw object's key in the lake. */
  objectKey: string;
  status: LedgerStatus;
  /** The batch that last took the object. */
  batchId?: string;
  /** Batches that took the object so far (a retry of one is the same attempt). */
  attempts: number;
  /** PROCESSING: when the claim lapses and another batch may take the object over. */
  leaseUntil?: string;
  rowsWritten?: number;
  rowsQuarantined?: number;
  error?: string;
  updatedAt: string;
}

/** The outcome of a claim: refused, or granted with the entry it replaced (none: a new object). */
export type Claim = { granted: false } | { granted: true; previous?: LedgerEntry };

/**
 * Whether a batch may claim an entry now: it is new, PENDING or FAILED, or PROCESSING by a
 * batch whose lease has lapsed (an entry from before leases, with none, has lapsed too). A batch
 * that finds its own unexpired claim takes it again as a retry.
 *
 * @example
 * if (entry && isClaimable(entry, new Date())) plan(entry.objectKey);
 *
 * @param entry - the ledger's entry, if any
 * @param now - the claimer's clock
 */
export const isClaimable = (entry: LedgerEntry | undefined, now: Date): boolean =>
  entry === undefined ||
  entry.status === 'PENDING' ||
  entry.status === 'FAILED' ||
  (entry.status === 'PROCESSING' && isLapsed(entry, now));

/**
 * Whether a PROCESSING entry's lease has lapsed: its batch is gone (leases outlive any run of
 * the function that holds them), so whatever it wrote and did not commit is abandoned.
 *
 * @param entry - a PROCESSING entry
 * @param now - the reader's clock
 */
export const isLapsed = (entry: LedgerEntry, now: Date): boolean =>
  entry.leaseUntil === undefined || entry.leaseUntil < now.toISOString();

/**
 * The backlog ledger (DynamoDB in AWS and locally, on dynalite): one entry per raw object,
 * moved between states only by single-item conditional writes, so two batches can never both own
 * an object and an object is never processed twice. A claim is a lease: a batch that dies
 * without settling its objects loses them when the lease lapses, and the next batch takes them.
 */
export interface Ledger {
  /** Entries for up to any number of keys (absent keys are missing from the result). */
  getMany(objectKeys: readonly string[]): Promise<Map<string, LedgerEntry>>;
  /**
   * → PROCESSING for `batchId` until `now + leaseMs`, when {@link isClaimable} or held by this
   * very batch (a retry, which renews the lease). Refused when another batch's lease is live or
   * the object already SUCCEEDED. A granted claim returns the entry it replaced, so a batch that
   * takes over a lapsed claim knows whose leftovers to clear.
   */
  claim(objectKey: string, batchId: string, now: Date, leaseMs: number): Promise<Claim>;
  /** PROCESSING by `batchId` → SUCCEEDED, with the row counts; repeating it is harmless. */
  succeed(
    objectKey: string,
    batchId: string,
    counts: { rowsWritten: number; rowsQuarantined: number },
    now: Date
  ): Promise<void>;
  /** PROCESSING by `batchId` → FAILED, with the error; repeating it is harmless. */
  fail(objectKey: string, batchId: string, error: string, now: Date): Promise<void>;
  /**
   * Ends every live lease at once: for an operator (or the local CLI) that knows every holder
   * is dead, so the next run need not wait for the leases to lapse. Returns how many it ended.
   * It reads the whole table, which only a small or local ledger should.
   */
  expireLeases(now: Date): Promise<number>;
}
