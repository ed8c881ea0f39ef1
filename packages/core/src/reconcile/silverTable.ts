import type { FlatColumn } from '../flatten/index.js';
import type { TableDefinition } from '../ports/index.js';

/** The hive keys of FlattenLayout.silverPart, in path order. */
const SILVER_PARTITION_KEYS = ['year', 'month', 'day', 'mode'] as const;

/** The columns runFlattenBatch writes beside the flattened ones in every silver row. */
const SILVER_LINEAGE_COLUMNS: TableDefinition['columns'] = [
  { name: '_variant', type: 'JSON' },
  { name: '_source_key', type: 'VARCHAR' },
  { name: '_source_line', type: 'BIGINT' },
  { name: '_batch_id', type: 'VARCHAR' },
];

/**
 * The feed's silver table: the merged columns and the lineage columns, partitioned as
 * FlattenBatch writes, with the partition values this run's parts were written under.
 *
 * @param feed - the feed, which names the table
 * @param columns - the merged schema
 * @param outputs - the keys of the parts the run's batches wrote
 */
export const silverTableOf = (
  feed: string,
  columns: readonly FlatColumn[],
  outputs: readonly string[]
): TableDefinition => {
  const location = `silver/${feed}/`;
  const values = new Map<string, Set<string>>(SILVER_PARTITION_KEYS.map((key) => [key, new Set()]));
  for (const output of outputs) {
    if (!output.startsWith(location)) continue;
    for (const segment of output.slice(location.length).split('/').slice(0, -1)) {
      const [key, value] = segment.split('=', 2);
      if (key !== undefined && value !== undefined) values.get(key)?.add(value);
    }
  }
  return {
    table: feed,
    location,
    columns: [
      ...columns.map((column) => ({ name: column.name, type: column.type })),
      ...SILVER_LINEAGE_COLUMNS,
    ],
    partitionKeys: SILVER_PARTITION_KEYS.map((key) => ({
      key,
      values: [...(values.get(key) ?? [])].sort(),
    })),
  };
};
