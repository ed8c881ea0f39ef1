import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import type { PlannedBatch } from '@strata/core/plan-backlog';
import type { Ledger, LedgerEntry, ObjectInfo, ObjectStore } from '@strata/core/ports';

/**
 * A lake whose listing is generated, for planning at full scale without storing millions of
 * objects; the uploaded plan is read back line by line and summarised, never held whole.
 */
export class GeneratedListing implements ObjectStore {
  planned = { batches: 0, objects: 0, bytes: 0, maxObjects: 0, maxBytes: 0 };
  readonly #count: number;
  readonly #summarise: boolean;

  /**
   * @param count - objects to list
   * @param summarise - read the uploaded plan back into `planned` (off when timing the planner)
   */
  constructor(count: number, summarise = true) {
    this.#count = count;
    this.#summarise = summarise;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (let i = 0; i < this.#count; i++) {
      yield { key: `${prefix}part-${i}.json.gz`, size: 1_000 + ((i * 7919) % 250_000) };
    }
  }

  async upload(_key: string, path: string): Promise<void> {
    if (!this.#summarise) return;
    for await (const line of createInterface({ input: createReadStream(path) })) {
      const batch = JSON.parse(line) as PlannedBatch;
      this.planned.batches++;
      this.planned.objects += batch.objects.length;
      this.planned.bytes += batch.bytes;
      this.planned.maxObjects = Math.max(this.planned.maxObjects, batch.objects.length);
      this.planned.maxBytes = Math.max(this.planned.maxBytes, batch.bytes);
    }
  }

  /** No schema registry yet, as before a feed's first backfill. */
  async get(): Promise<Uint8Array | undefined> {
    return undefined;
  }
  /** The run's registry copy: nothing to keep here. */
  async put(): Promise<void> {}
  /** The head the planner reads: every object holds the same narrow records. */
  async download(_key: string, path: string): Promise<void> {
    await writeFile(path, gzipSync('{"id":1,"at":"2026-11-08"}\n{"id":2,"at":"2026-11-09"}\n'));
  }
  getTagged(): Promise<undefined> {
    throw new Error('not used by the planner');
  }
  putIfMatch(): Promise<undefined> {
    throw new Error('not used by the planner');
  }
  copy(): Promise<void> {
    throw new Error('not used by the planner');
  }
  delete(): Promise<void> {
    throw new Error('not used by the planner');
  }
}

/** A ledger that knows nothing yet: every object is pending. */
export const emptyLedger: Ledger = {
  getMany: async () => new Map<string, LedgerEntry>(),
  claim: async () => ({ granted: true }),
  succeed: async () => undefined,
  fail: async () => undefined,
  expireLeases: async () => 0,
};
