import { quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { DuckDbEngine } from '../engine/index.js';
import { hasField, kindsAt, mixedPaths, planOptionsOf } from './batchPlan.js';
import { type ChildTable, childTable, type ExplodedArray } from './childTables.js';
import { maximumObjectSize } from './constants.js';
import { discoverStructure, type FileGroup } from './discoverStructure.js';
import {
  type ColumnAccess,
  type FlatColumn,
  flattenSelect,
  jsonAccess,
  jsonHoldsObject,
  LISTED_PATHS,
  listedJsonAccess,
  normalise,
  splitByKind,
  structAccess,
  structHoldsObject,
} from './flattenPlan.js';
import {
  copySilver,
  jsonRecordValue,
  type PathValue,
  partitionKeys,
  partitionValues,
  shapeValue,
} from './partitionColumns.js';
import { type JsonStructure, pathKeys, type ReadShape, readJsonColumns } from './structure.js';
import type { FlattenBatchOptions, LocalObject, Written } from './types.js';
import { witnessedRead } from './witnessRead.js';

/**
 * For files read in list order, each numbered (from 1) in `file` and each record in `row`
 * across all of them: a record's object key, its line (its row less the rows of the files
 * before, masked lines included), and the filter that leaves masked lines out.
 */
export const fileLines = (objects: readonly LocalObject[], file: string, row: string) => {
  const offsets: number[] = [];
  let before = 0;
  for (const object of objects) {
    offsets.push(before);
    before += object.records + object.masked.length;
  }
  const line = `${row} - [${offsets.join(', ')}][${file}]`;
  return {
    keys: `[${objects.map((o) => quoteLiteral(o.key)).join(', ')}]`,
    line,
    masked: objects.some((o) => o.masked.length > 0)
      ? `where not list_contains([${objects.map((o) => `[${o.masked.join(', ')}]::bigint[]`).join(', ')}][${file}], ${line})`
      : '',
  };
};

/**
 * How a select reads `columns` out of the JSON column `record` of `relation`: path by path, or
 * from one parse a row where they are {@link LISTED_PATHS} or more ({@link listedJsonAccess}).
 */
const fromJson = (record: string, columns: readonly FlatColumn[], relation: string) => {
  if (columns.length < LISTED_PATHS) {
    return { access: jsonAccess(record), holdsObject: jsonHoldsObject(record), relation };
  }
  const listed = listedJsonAccess(record, '__strata_listed', columns);
  return {
    ...listed,
    relation: `(select *, ${listed.extract} as __strata_listed from ${relation})`,
  };
};

/**
 * Writes the batch's rows, fast files read by DuckDB's JSON reader and slow files from their
 * loaded records, as ZSTD Parquet partitioned by year/month/day/mode in one COPY. With child
 * tables, the rows are kept in a temporary table first so each child is unnested from it
 * instead of reading the files again; returns the elements each child should get.
 */
export const writeSilver = async (
  engine: DuckDbEngine,
  plan: {
    columns: FlatColumn[];
    arrays: ExplodedArray[];
    structure: JsonStructure;
    /** How the fast files are read (`readShapeOf`). */
    shape: { [key: string]: ReadShape };
    fastGroups: FileGroup[];
    objects: readonly LocalObject[];
    batchId: string;
    options: FlattenBatchOptions;
    out: string;
    /** JSON Lines are read with columns detected from this ({@link witnessedRead}), not given. */
    witness?: string;
    /** New typed columns, where a value that does not fit fails the write (`flattenSelect`). */
    strict?: ReadonlySet<string>;
  }
): Promise<Written['children']> => {
  const { columns, arrays, structure, options } = plan;
  const strict = plan.strict ?? new Set<string>();
  const keys = partitionKeys(options.partition);
  const lineage = (value: (keys: string[]) => PathValue) =>
    [
      `${quoteLiteral(plan.batchId)} as _batch_id`,
      ...partitionValues(options.partition, value),
    ].join(', ');
  /** The exploded arrays as JSON columns `_explode_<n>`, for the child tables. */
  const arrayColumns = (access: ColumnAccess) =>
    arrays
      .map(
        (array, i) => `, ${access({ name: '', path: array.path, type: 'JSON' })} as _explode_${i}`
      )
      .join('');
  // The reader's own columns (file, row number) take names no top-level field has.
  const unused = (base: string) => {
    let name = base;
    while (hasField(structure, name)) name = `_${name}`;
    return name;
  };
  const [fileColumn, rowColumn, pathColumn, noColumn] = [
    '__strata_file',
    '__strata_row',
    '__strata_path',
    '__strata_none',
  ].map(unused) as [string, string, string, string];
  // Records with no key at all (`{}` only) are still rows; the reader needs a column to read.
  const readColumns = readJsonColumns(
    Object.keys(plan.shape).length > 0 ? plan.shape : { [noColumn]: 'VARCHAR' }
  );
  // DuckDB numbers the files it reads from 0 (`file_index`); a record field of that name hides
  // the number, and each row's file is then looked up by its path (a scan of the batch's list).
  const indexHidden = hasField(structure, 'file_index');
  const byRead = new Map(plan.objects.map((object) => [object.read, object]));
  const branches = plan.fastGroups.map((group) => {
    // Files are read in list order: a record's line is its row number less the rows before its file.
    const objects = group.paths.map((path) => byRead.get(path) as LocalObject);
    const fileIndex = quoteIdentifier(fileColumn);
    const { keys, line, masked } = fileLines(objects, fileIndex, quoteIdentifier(rowColumn));
    const paths = `[${group.paths.map(quoteLiteral).join(', ')}]`;
    const witnessed = group.format === 'newline_delimited' ? plan.witness : undefined;
    // The witness is file 0, the batch's files 1…n.
    const files = witnessed
      ? `(select *, file_index::bigint as ${fileIndex} from ${witnessedRead(witnessed, group)} where file_index > 0)`
      : `(select *, ${indexHidden ? `list_position(${paths}, ${quoteIdentifier(pathColumn)})` : '(file_index + 1)::bigint'} as ${fileIndex}
         from read_json(${paths}, format = ${quoteLiteral(group.format)}, records = true, ${indexHidden ? `filename = ${quoteLiteral(pathColumn)}, ` : ''}columns = ${readColumns}, ${maximumObjectSize(group.longestRecord ?? 0)}))`;
    return `
      select ${flattenSelect(columns, structAccess, strict, structHoldsObject)},
        ${keys}[${fileIndex}] as _source_key,
        ${line} as _source_line,
        ${lineage(shapeValue(plan.shape))}${arrayColumns(structAccess)}
      from (select *, row_number() over () as ${quoteIdentifier(rowColumn)} from ${files})
      ${masked}`;
  });
  const slow = fromJson('record', columns, 'slow_records');
  branches.push(`
      select ${flattenSelect(columns, slow.access, new Set(), slow.holdsObject)},
        source_key as _source_key, line_no as _source_line,
        ${lineage(jsonRecordValue('record'))}${arrayColumns(jsonAccess('record'))}
      from ${slow.relation}`);
  const rows = branches.join(' union all ');
  // A partitioned COPY buffers this many rows across partitions before it writes (524,288 by
  // default), outside DuckDB's memory limit: a lower mark keeps a large batch's RSS bounded.
  await engine.run('set partitioned_write_flush_threshold = 65536');
  const copy = (query: string, dir: string) =>
    copySilver(engine, query, { dir, batchId: plan.batchId, keys });
  if (arrays.length === 0) {
    await copy(rows, plan.out);
    return [];
  }
  await engine.run(`create or replace temp table batch_rows as ${rows}`);
  // A value at an exploded path that is no array (an object, a string) has no elements to be
  // rows of the child table: the record keeps it in `_variant`, as a value that does not fit.
  const notArrays = arrays.map((array, i) => {
    const value = `_explode_${i}`;
    const name = pathKeys(array.path).map(normalise).join(options.separator);
    return `case when json_type(${value}) not in ('ARRAY', 'NULL') then json_object(${quoteLiteral(name)}, ${value}) end`;
  });
  const variant = `nullif(to_json(list_concat(coalesce(from_json(_variant, '["JSON"]'), []), list_filter([${notArrays.join(', ')}], x -> x is not null))), '[]')::json`;
  await copy(
    `select * exclude (${arrays.map((_, i) => `_explode_${i}`).join(', ')}) replace (${variant} as _variant) from batch_rows`,
    plan.out
  );
  const children: { table: ChildTable; elements: number }[] = [];
  for (const [i, array] of arrays.entries()) {
    const column = `_explode_${i}`;
    const holding = `from batch_rows where json_type(${column}) = 'ARRAY'`;
    const elements = `select _source_key, _source_line, _batch_id${keys.map((key) => `, ${key}`).join('')},
        unnest(json_extract(${column}, '$[*]')) as _element,
        unnest(range(1, json_array_length(${column})::bigint + 1)) as _index
      ${holding}`;
    // Every element's keys, as for records: an element key no sample showed is still a column.
    const { structure: element } = await discoverStructure(
      engine,
      [
        {
          format: 'relation',
          paths: ['elements'],
          sql: `select 'elements' as filename, _element as json from (${elements})`,
        },
      ],
      { maxDepth: options.maxDepth, known: 'NULL' }
    );
    const planned = childTable(array, element, planOptionsOf(options));
    const record = planned.wrap ? `json_object('value', _element)` : '_element';
    // Every element's kinds at its paths of mixed kinds: a column per kind.
    const kinds = await kindsAt(
      engine,
      `select ${record} as json from (${elements})`,
      mixedPaths(planned.wrap ? { value: element } : element, options.maxDepth)
    );
    const table = {
      ...planned,
      columns: splitByKind(planned.columns, kinds, [], options.separator),
    };
    const read = fromJson(
      '_record',
      table.columns,
      `(select *, ${record} as _record from (${elements}))`
    );
    await copy(
      `select ${flattenSelect(table.columns, read.access, new Set(), read.holdsObject)},
         _source_key, _source_line, _index, _batch_id${keys.map((key) => `, ${key}`).join('')}
       from ${read.relation}`,
      `${plan.out}-${i}`
    );
    children.push({
      table,
      elements: await engine.scalarNumber(
        `select coalesce(sum(json_array_length(${column})), 0) ${holding}`
      ),
    });
  }
  await engine.run('drop table batch_rows');
  return children;
};
