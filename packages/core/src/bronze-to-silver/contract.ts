import { type QueryConfig, quoteIdentifier, quoteLiteral } from '../config/index.js';
import type { ColumnSpec } from '../ports/index.js';

/** What a query's `contract` block declares, every list present. */
export type ContractConfig = NonNullable<QueryConfig['contract']>;

/** The lineage columns extract adds to every bronze row, carried into silver as they are. */
export const LINEAGE_COLUMNS = [
  '_source_system',
  '_source_query_sha256',
  '_extracted_at',
  '_execution_id',
  '_batch',
] as const;

const NO_CONTRACT: ContractConfig = { required: [], upper: [], lower: [], phone: [], address: [] };

/** Whether `name` (as the warehouse spells it) is among `columns`, case aside. */
const among = (columns: readonly string[], name: string) =>
  columns.some((column) => column.toLowerCase() === name.toLowerCase());

/** A phone's digits, and whether there are as many as a phone number has (7 to 15, E.164). */
const phoneDigits = (value: string) => `regexp_replace(${value}, '[^0-9]', '', 'g')`;
const validPhone = (value: string) => `regexp_full_match(${phoneDigits(value)}, '[0-9]{7,15}')`;

/**
 * The select list that makes one bronze row a silver one: names in lower snake case, text
 * trimmed with empty text as null, then the contract's case, phone and address rules, and the
 * lineage columns as they are.
 *
 * @param columns - the bronze columns (the manifest's, as the warehouse names and types them)
 * @param contract - the query's contract, if it has one
 */
export const standardisedColumns = (
  columns: readonly ColumnSpec[],
  contract: ContractConfig = NO_CONTRACT
): string =>
  columns
    .map((column) => {
      let value = quoteIdentifier(column.name);
      if (column.type === 'VARCHAR') value = `nullif(trim(${value}), '')`;
      if (among(contract.upper, column.name)) value = `upper(${value})`;
      if (among(contract.lower, column.name)) value = `lower(${value})`;
      if (among(contract.address, column.name)) {
        value = `regexp_replace(${value}, '\\s+', ' ', 'g')`;
      }
      if (among(contract.phone, column.name)) {
        // A number that cannot be one stays as it came: the quality score marks it.
        value = `case when ${validPhone(value)} then '+' || ${phoneDigits(value)} else ${value} end`;
      }
      return `${value} as ${quoteIdentifier(column.name.toLowerCase())}`;
    })
    .concat(LINEAGE_COLUMNS)
    .join(', ');

/**
 * The per-row data-quality score over standardised rows: the share of its checks a row passes,
 * from 0 to 1. Every data column counts one check (it has a value), and every contract phone
 * column one more (it is a phone number).
 *
 * @param columns - the bronze columns
 * @param contract - the query's contract, if it has one
 */
export const qualityScore = (
  columns: readonly ColumnSpec[],
  contract: ContractConfig = NO_CONTRACT
): string => {
  const names = columns.map((column) => quoteIdentifier(column.name.toLowerCase()));
  const checks = [
    ...names.map((name) => `(${name} is not null)::int`),
    ...contract.phone.map((phone) => {
      const name = quoteIdentifier(phone.toLowerCase());
      return `coalesce(regexp_full_match(${name}, '\\+[0-9]{7,15}'), false)::int`;
    }),
  ];
  return `round((${checks.join(' + ')}) / ${checks.length}, 4)::double`;
};

/**
 * Why a standardised row goes to quarantine instead of silver, or null when it does not: a null
 * in the primary key, or in a column the contract requires.
 *
 * @param primaryKey - the primary key columns, as configured
 * @param contract - the query's contract, if it has one
 */
export const rejectReason = (
  primaryKey: readonly string[],
  contract: ContractConfig = NO_CONTRACT
): string => {
  const isNull = (column: string) => `${quoteIdentifier(column.toLowerCase())} is null`;
  const cases = [
    `when ${primaryKey.map(isNull).join(' or ')} then ${quoteLiteral(`primary key (${primaryKey.join(', ')}) is null`)}`,
    ...contract.required.map(
      (column) => `when ${isNull(column)} then ${quoteLiteral(`required column ${column} is null`)}`
    ),
  ];
  return `case ${cases.join(' ')} end`;
};
