/**
 * Runs `work` on every item with at most `limit` running at once, in item order, and rejects
 * with the first error once the running ones have settled.
 *
 * S3 and DynamoDB answer each request in milliseconds, so a batch of thousands of small objects
 * spends its time waiting on round trips unless they overlap.
 *
 * @param items - what to work on
 * @param limit - how many at once
 * @param work - the work per item
 */
export const eachLimited = async <T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>
): Promise<void> => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(limit, items.length) }, worker)
  );
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
};
