import type { FlatColumn } from '../flatten/index.js';
import type { TableDefinition } from '../ports/index.js';

/** The columns runFlattenBatch writes beside the flattened ones in every silver row. */
const SILVER_LINEAGE_COLUMNS: TableDefinition['columns'] = [
  {
    name: '_variant',
    type: 'JSON',
    comment: 'values no column of their kind holds, as [{"<column or JSON path>": value}]',
  },
  {
    name: '_source_key',
    type: 'VARCHAR',
    comment: 'lineage: the raw object the row was read from',
  },
  {
    name: '_source_line',
    type: 'BIGINT',
    comment: 'lineage: the line (or element) of the raw object',
  },
  { name: '_batch_id', type: 'VARCHAR', comment: 'lineage: the backfill batch that wrote the row' },
];

/**
 * A child table's rows also carry the element's position in its parent's array, and a nested
 * array's rows the positions of the elements above it (`_parent_index`, null for the others).
 */
const CHILD_LINEAGE_COLUMNS: TableDefinition['columns'] = [
  ...SILVER_LINEAGE_COLUMNS.slice(0, 3),
  {
    name: '_index',
    type: 'BIGINT',
    comment: "lineage: the element's position in its array, from 1",
  },
  {
    name: '_parent_index',
    type: 'BIGINT[]',
    comment: 'lineage: the positions of the elements above it, outermost first',
  },
  ...SILVER_LINEAGE_COLUMNS.slice(3),
];

/**
 * A silver dataset's table: the merged columns and the lineage columns, partitioned as
 * FlattenBatch writes, with the partition values this run's parts were written under.
 *
 * @param feed - the dataset (a feed, or a feed's exploded array), which names the table
 * @param columns - the merged schema
 * @param outputs - the keys of the parts the run's batches wrote, or of their folders (`.../`)
 * @param partitionKeys - the hive keys of its folders, in path order
 * @param kind - `child` for an exploded array's table, whose rows carry `_index`
 */
export const silverTableOf = (
  feed: string,
  columns: readonly FlatColumn[],
  outputs: Iterable<string>,
  partitionKeys: readonly string[],
  kind: 'feed' | 'child' = 'feed'
): TableDefinition => {
  const location = `silver/${feed}/`;
  const values = new Map<string, Set<string>>(partitionKeys.map((key) => [key, new Set()]));
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
      ...columns.map((column) => ({ name: column.name, type: column.type, comment: column.path })),
      ...(kind === 'child' ? CHILD_LINEAGE_COLUMNS : SILVER_LINEAGE_COLUMNS),
    ],
    partitionKeys: partitionKeys.map((key) => ({
      key,
      values: [...(values.get(key) ?? [])].sort(),
    })),
  };
};
