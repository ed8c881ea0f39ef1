/** Leaf paths in a sample from which a batch counts as wide and is typed by inference. */
export const WIDE_LEAVES = 100;

/**
 * Whether records hold `WIDE_LEAVES` distinct leaf paths or more between them (an array's
 * elements as one path). FlattenBatch asks it of its sample to choose DuckDB's inference, and
 * PlanBacklog of the run's first records to plan smaller batches: counted in Node, a narrow
 * sample costs a millisecond.
 *
 * @example
 * holdsWideRecords([{ a: 1, b: { c: [1, 2] } }]); // false: two leaf paths
 *
 * @param records - parsed records
 */
export const holdsWideRecords = (records: Iterable<unknown>): boolean => {
  const paths = new Set<string>();
  const wide = (value: unknown, path: string): boolean => {
    if (Array.isArray(value)) return value.some((item) => wide(item, `${path}[]`));
    if (value !== null && typeof value === 'object') {
      return Object.entries(value).some(([key, child]) =>
        wide(child, `${path}.${JSON.stringify(key)}`)
      );
    }
    paths.add(path);
    return paths.size >= WIDE_LEAVES;
  };
  for (const record of records) {
    if (wide(record, '$')) return true;
  }
  return false;
};
