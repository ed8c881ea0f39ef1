import type { CatalogColumnType } from '../ports/index.js';
import { listShape, listType } from './listTypes.js';

/*
 * Which column each kind of a path's values goes to, when a path holds values of several kinds
 * (`splitByKind`, `checkedColumns`): a column per `json_type` group, and one per depth of lists
 * of one scalar kind.
 */

/**
 * The kind of a variant column `<name>__v_<kind>`: values of another kind than its path's
 * column; `list<n>` holds lists of one scalar kind `n` deep (GeoJSON's MultiPolygon beside
 * Polygons is `coordinates__v_list4`).
 */
export type VariantKind = 'text' | 'bigint' | 'double' | 'bool' | 'json' | `list${number}`;

/** `json_type`'s kinds, by the variant column each goes to (lists: {@link kindGroups}). */
export const KIND_GROUP: Record<string, VariantKind> = {
  VARCHAR: 'text',
  BIGINT: 'bigint',
  UBIGINT: 'bigint',
  DOUBLE: 'double',
  BOOLEAN: 'bool',
  OBJECT: 'json',
  ARRAY: 'json',
};
/** The type of a scalar group's column. */
const SCALAR_GROUP_TYPE: Record<string, CatalogColumnType> = {
  text: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  bool: 'BOOLEAN',
  json: 'JSON',
};
/** The list elements of one depth in the order the depth's column takes the first present. */
const ELEMENT_ORDER = ['VARCHAR', 'DOUBLE', 'BIGINT', 'BOOLEAN'] as const;

/**
 * Which column each kind of a path's values goes to: `json_type`'s kinds by
 * {@link KIND_GROUP}, lists of one scalar kind (`valueKind`) by their depth, `list<n>`, whose
 * column is a LIST of the first element of text, double, integer, boolean present there
 * (integers and doubles together: DOUBLE). A list whose element that column does not hold
 * (integers beside text at one depth), and every list where `listsApart` is false (the
 * registry keeps the path's arrays as JSON: its values do not move under readers), goes with
 * the path's JSON values.
 *
 * @param kinds - the kinds seen at the path
 * @param listsApart - whether lists get columns of their own
 * @returns each kind's group, and each list group's type
 */
export const kindGroups = (
  kinds: readonly string[],
  listsApart = true
): { group: Map<string, VariantKind>; types: Map<VariantKind, CatalogColumnType> } => {
  const group = new Map<string, VariantKind>();
  const types = new Map<VariantKind, CatalogColumnType>();
  const lists = kinds.flatMap((kind) => {
    const shape = listsApart ? listShape(kind) : undefined;
    return shape ? [{ kind, ...shape }] : [];
  });
  for (const depth of new Set(lists.map((list) => list.depth))) {
    const here = new Set(lists.filter((l) => l.depth === depth).map((l) => l.element));
    const element = ELEMENT_ORDER.find((e) => here.has(e)) ?? 'VARCHAR';
    types.set(`list${depth}`, listType({ element, depth }));
  }
  for (const kind of kinds) {
    const shape = listsApart ? listShape(kind) : undefined;
    const type = shape && types.get(`list${shape.depth}`);
    group.set(
      kind,
      shape && type && listKindsOf(type).includes(kind)
        ? `list${shape.depth}`
        : (KIND_GROUP[kind] ?? 'json')
    );
  }
  return { group, types };
};

/** A group's column type: a list group's from {@link kindGroups}. */
export const groupType = (
  group: VariantKind,
  types: ReadonlyMap<VariantKind, CatalogColumnType>
): CatalogColumnType => SCALAR_GROUP_TYPE[group] ?? types.get(group) ?? 'JSON';

/**
 * The order a path's groups take columns in: its own column is the first present, of text,
 * double, integer, boolean, lists (shallowest first), JSON. Scalars go first as before lists
 * had columns, so no path's own column changes type: a child table's columns are planned
 * without its registry, and a column that did would no longer match its earlier files.
 */
export const orderGroups = (groups: Iterable<VariantKind>): VariantKind[] => {
  const rank = (group: VariantKind) =>
    group.startsWith('list')
      ? 5 + Number(group.slice(4)) / 1000
      : ['text', 'double', 'bigint', 'bool', '', 'json'].indexOf(group) + 1;
  return [...new Set(groups)].sort((a, b) => rank(a) - rank(b));
};

/** The list kinds (`valueKind`) a LIST column holds: its depth's, of elements it holds. */
export const listKindsOf = (type: string): string[] => {
  const shape = listShape(type);
  if (!shape) return [];
  const elements = shape.element === 'DOUBLE' ? (['BIGINT', 'DOUBLE'] as const) : [shape.element];
  return elements.map((element) => listType({ element, depth: shape.depth }));
};
