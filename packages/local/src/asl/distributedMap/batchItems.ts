/** Without MaxInputBytesPerBatch a batch holds as much as fits in 256 KiB (input-output-itembatcher.html). */
export const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;

export interface BatchLimits {
  /** MaxItemsPerBatch; unlimited when absent. */
  maxItems?: number;
  /** MaxInputBytesPerBatch, measured on the serialized child input. */
  maxBytes: number;
  /** ItemBatcher.BatchInput, repeated in every batch. */
  batchInput?: unknown;
}

/** A child's input when ItemBatcher is set: `{ "BatchInput": ..., "Items": [...] }`. */
export interface Batch {
  BatchInput?: unknown;
  Items: unknown[];
}

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * Groups items in order into child inputs that respect both limits: at most `maxItems` items and
 * at most `maxBytes` bytes of serialized `{ BatchInput, Items }` — "if you specify both, Step
 * Functions reduces the number of items in a batch to avoid exceeding the batch size limit"
 * (input-output-itembatcher.html). An item too big for any batch goes alone into its own batch;
 * the child input limit then fails the run, as the service would.
 *
 * @param items - the selected items
 * @param limits - the ItemBatcher limits, resolved
 */
export const batchItems = (items: readonly unknown[], limits: BatchLimits): Batch[] => {
  const start = (): Batch =>
    limits.batchInput === undefined ? { Items: [] } : { BatchInput: limits.batchInput, Items: [] };
  // The serialized batch is its empty form plus each item's JSON and one comma between items.
  const emptyBytes = bytes(start());
  const batches: Batch[] = [];
  let batch = start();
  let size = emptyBytes;
  for (const item of items) {
    const itemBytes = bytes(item) + (batch.Items.length > 0 ? 1 : 0);
    const full =
      batch.Items.length > 0 &&
      (batch.Items.length === limits.maxItems || size + itemBytes > limits.maxBytes);
    if (full) {
      batches.push(batch);
      batch = start();
      size = emptyBytes;
    }
    size += bytes(item) + (batch.Items.length > 0 ? 1 : 0);
    batch.Items.push(item);
  }
  if (batch.Items.length > 0) batches.push(batch);
  return batches;
};
