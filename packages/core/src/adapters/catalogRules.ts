/** A column as an engine declares it. */
export interface EngineColumn {
  name: string;
  type: string;
  comment?: string;
}

/** The partition value Hive-style writers use for null. */
export const HIVE_NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * The columns a table has after an upsert (the Catalog port's "tables only grow"): its own
 * columns in their order, each taking the wanted type (and comment) when the definition names
 * it, then the definition's new columns in the definition's order.
 *
 * @param existing - the table's columns now (empty for a new table)
 * @param wanted - the definition's columns, in the engine's types
 */
export const evolveColumns = (
  existing: readonly EngineColumn[],
  wanted: readonly EngineColumn[]
): EngineColumn[] => {
  const byName = new Map(wanted.map((column) => [column.name, column]));
  const kept = existing.map((column) => {
    const asked = byName.get(column.name);
    const comment = asked?.comment ?? column.comment;
    return {
      name: column.name,
      type: asked?.type ?? column.type,
      ...(comment === undefined ? {} : { comment }),
    };
  });
  const known = new Set(existing.map((column) => column.name));
  return [...kept, ...wanted.filter((column) => !known.has(column.name))];
};

/**
 * The column name each partition key is queried by: the key itself, or `<key>_partition` when a
 * data column (or an earlier key) already has that name, since an engine cannot show two
 * columns of one name and the data column holds the record's own value.
 *
 * @param keys - the partition keys, in path order
 * @param columns - the table's data columns
 */
export const partitionColumnNames = (
  keys: readonly string[],
  columns: readonly { name: string }[]
): string[] => {
  const taken = new Set(columns.map((column) => column.name));
  return keys.map((key) => {
    let name = key;
    while (taken.has(name)) name = `${name}_partition`;
    taken.add(name);
    return name;
  });
};
