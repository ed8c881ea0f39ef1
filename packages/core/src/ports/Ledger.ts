/** Where one raw object is in the backlog. */
export type LedgerStatus = 'PENDING' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

/** The ledger's record of one raw object. */
export interface LedgerEntry {
  /** The raw object's key in the lake. */
  objectKey: string;
  status: LedgerStatus;
  /** The batch that last took the object. */
  batchId?: string;
  attempts: number;
  rowsWritten?: number;
  rowsQuarantined?: number;
  error?: string;
  updatedAt: string;
}

/**
 * The backlog ledger (DynamoDB in AWS and locally, on dynalite): one entry per raw object,
 * moved between states only by conditional writes, so two batches can never both own an object
 * and an object is never processed twice.
 */
export interface Ledger {
  /** Entries for up to any number of keys (absent keys are missing from the result). */
  getMany(objectKeys: readonly string[]): Promise<Map<string, LedgerEntry>>;
  /**
   * PENDING/FAILED (or absent) → PROCESSING for `batchId`; a retry of the same batch may take
   * its own PROCESSING entries again. Returns false when another batch holds the object or it
   * already SUCCEEDED.
   */
  claim(objectKey: string, batchId: string, now: Date): Promise<boolean>;
  /** PROCESSING by `batchId` → SUCCEEDED, with the row counts; repeating it is harmless. */
  succeed(
    objectKey: string,
    batchId: string,
    counts: { rowsWritten: number; rowsQuarantined: number },
    now: Date
  ): Promise<void>;
  /** PROCESSING by `batchId` → FAILED, with the error. */
  fail(objectKey: string, batchId: string, error: string, now: Date): Promise<void>;
}
