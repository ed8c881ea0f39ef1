/** One item a stage gave up on, with why: what an operator inspects and replays. */
export interface DeadLetter {
  /** The stage that gave up, e.g. `feature-ingest`. */
  stage: string;
  /** What the item belongs to, e.g. the feature group. */
  target: string;
  runId: string;
  /** The item's identity within the target, e.g. the record id. */
  key: string;
  error: { name: string; message: string };
  /** The item itself, as it would have been sent. */
  payload: unknown;
}

/** Where items that failed for good go (an SQS queue in AWS, a JSONL file locally). */
export interface DeadLetterQueue {
  /** Sends every letter, or rejects; a letter may arrive twice, never not at all. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}
