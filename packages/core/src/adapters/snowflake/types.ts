import { BadInputError } from '../../errors/index.js';

/**
 * What the adapter knows about a Snowflake result column: snowflake-sdk's `Column` gives the
 * type in its wire spelling (`fixed`, `real`, `text`, `timestamp_tz`…), DESCRIBE gives SQL
 * spellings (`NUMBER`, `VARCHAR`…); both are accepted, in any case.
 */
export interface SnowflakeColumnType {
  /** Only used to name the column in errors. */
  name?: string;
  type: string;
  precision?: number | null;
  scale?: number | null;
}

/**
 * The conversion families. One Snowflake type maps to exactly one family, and the family fixes
 * both the DuckDB type and the value encoding, so `duckDbTypeOf` and `toJsonValue` cannot drift.
 *
 * @internal
 */
export const TypeFamily = {
  BigInt: 'bigint',
  Decimal: 'decimal',
  Double: 'double',
  Varchar: 'varchar',
  Boolean: 'boolean',
  Date: 'date',
  Time: 'time',
  Timestamp: 'timestamp',
  TimestampTz: 'timestamptz',
  Json: 'json',
  BinaryHex: 'binary-hex',
  Geo: 'geo',
} as const;

export type TypeFamily = (typeof TypeFamily)[keyof typeof TypeFamily];

/** Snowflake type names (wire and SQL spellings, upper-cased) by family. */
const FAMILY_OF: Readonly<Record<string, TypeFamily>> = {
  FIXED: TypeFamily.Decimal,
  NUMBER: TypeFamily.Decimal,
  DECIMAL: TypeFamily.Decimal,
  NUMERIC: TypeFamily.Decimal,
  INT: TypeFamily.Decimal,
  INTEGER: TypeFamily.Decimal,
  BIGINT: TypeFamily.Decimal,
  SMALLINT: TypeFamily.Decimal,
  TINYINT: TypeFamily.Decimal,
  BYTEINT: TypeFamily.Decimal,
  REAL: TypeFamily.Double,
  FLOAT: TypeFamily.Double,
  FLOAT4: TypeFamily.Double,
  FLOAT8: TypeFamily.Double,
  DOUBLE: TypeFamily.Double,
  'DOUBLE PRECISION': TypeFamily.Double,
  TEXT: TypeFamily.Varchar,
  VARCHAR: TypeFamily.Varchar,
  STRING: TypeFamily.Varchar,
  CHAR: TypeFamily.Varchar,
  CHARACTER: TypeFamily.Varchar,
  NCHAR: TypeFamily.Varchar,
  NVARCHAR: TypeFamily.Varchar,
  BOOLEAN: TypeFamily.Boolean,
  DATE: TypeFamily.Date,
  TIME: TypeFamily.Time,
  TIMESTAMP_NTZ: TypeFamily.Timestamp,
  DATETIME: TypeFamily.Timestamp,
  TIMESTAMP: TypeFamily.Timestamp,
  TIMESTAMP_LTZ: TypeFamily.TimestampTz,
  TIMESTAMP_TZ: TypeFamily.TimestampTz,
  VARIANT: TypeFamily.Json,
  OBJECT: TypeFamily.Json,
  ARRAY: TypeFamily.Json,
  MAP: TypeFamily.Json,
  BINARY: TypeFamily.BinaryHex,
  VARBINARY: TypeFamily.BinaryHex,
  GEOGRAPHY: TypeFamily.Geo,
  GEOMETRY: TypeFamily.Geo,
};

/** Largest integer precision whose every value fits a signed 64-bit BIGINT (10^18 - 1 < 2^63). */
const BIGINT_MAX_PRECISION = 18;
/** DuckDB's DECIMAL tops out at 38 digits, as does Snowflake's NUMBER. */
const DECIMAL_MAX_PRECISION = 38;

const columnLabel = (column: SnowflakeColumnType): string =>
  column.name === undefined ? `column of type ${column.type}` : `column ${column.name}`;

/**
 * The conversion family of a Snowflake column.
 *
 * @internal
 * @param column - type, precision and scale as the SDK reports them
 */
export const familyOf = (column: SnowflakeColumnType): TypeFamily => {
  // `NUMBER(38,0)` or `VARCHAR(16777216)` as DESCRIBE spells them: the base name decides.
  const base = column.type
    .trim()
    .toUpperCase()
    .replace(/\s*\(.*\)$/, '');
  const family = FAMILY_OF[base];
  if (family === undefined) {
    throw new BadInputError(
      `${columnLabel(column)}: Snowflake type ${column.type} has no DuckDB mapping; cast it in the query (e.g. to VARCHAR)`
    );
  }
  if (family !== TypeFamily.Decimal) return family;
  const scale = column.scale ?? 0;
  const precision = column.precision ?? DECIMAL_MAX_PRECISION;
  return scale === 0 && precision <= BIGINT_MAX_PRECISION ? TypeFamily.BigInt : TypeFamily.Decimal;
};

/**
 * The DuckDB (and so Parquet) type a Snowflake column lands as in bronze.
 *
 * Integers narrow enough for 64 bits become BIGINT; every other NUMBER keeps its exact
 * precision and scale as DECIMAL, because a float would silently round money and 38-digit ids.
 * BINARY becomes VARCHAR holding upper-case hex, because DuckDB's `read_json` stores a JSON
 * string's UTF-8 bytes in a BLOB column as they are (it does not decode `\x..` escapes), so
 * no JSON encoding round-trips arbitrary bytes into a BLOB; `from_hex(col)` recovers them.
 *
 * @example
 * duckDbTypeOf({ type: 'fixed', precision: 38, scale: 0 }); // 'DECIMAL(38,0)'
 * duckDbTypeOf({ type: 'timestamp_tz', scale: 9 }); // 'TIMESTAMPTZ'
 * @param column - type, precision and scale as snowflake-sdk's `Column` reports them
 * @throws BadInputError naming the column when the type has no mapping
 */
export const duckDbTypeOf = (column: SnowflakeColumnType): string => {
  switch (familyOf(column)) {
    case TypeFamily.BigInt:
      return 'BIGINT';
    case TypeFamily.Decimal: {
      const precision = Math.min(column.precision ?? DECIMAL_MAX_PRECISION, DECIMAL_MAX_PRECISION);
      return `DECIMAL(${precision},${column.scale ?? 0})`;
    }
    case TypeFamily.Double:
      return 'DOUBLE';
    case TypeFamily.Varchar:
    case TypeFamily.BinaryHex:
    case TypeFamily.Geo:
      return 'VARCHAR';
    case TypeFamily.Boolean:
      return 'BOOLEAN';
    case TypeFamily.Date:
      return 'DATE';
    case TypeFamily.Time:
      return 'TIME';
    case TypeFamily.Timestamp:
      return 'TIMESTAMP';
    case TypeFamily.TimestampTz:
      return 'TIMESTAMPTZ';
    case TypeFamily.Json:
      return 'JSON';
  }
};

/** snowflake-sdk's `SfDate`: a JS Date that also carries the exact epoch seconds and nanoseconds. */
interface SfDateLike {
  getEpochSeconds(): number;
  getNanoSeconds(): number;
  getScale?(): number;
}

/** snowflake-sdk's `SfTime`, for TIME values inside structured types. */
interface SfTimeLike {
  getMidnightSeconds(): number;
  getNanoSeconds(): number;
  getScale?(): number;
}

const isSfDate = (value: unknown): value is SfDateLike =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as SfDateLike).getEpochSeconds === 'function' &&
  typeof (value as SfDateLike).getNanoSeconds === 'function';

const isSfTime = (value: unknown): value is SfTimeLike =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as SfTimeLike).getMidnightSeconds === 'function' &&
  typeof (value as SfTimeLike).getNanoSeconds === 'function';

/** `.fff…` with exactly `scale` digits (Snowflake's own precision), or nothing for scale 0. */
const fraction = (nanos: number, scale: number): string => {
  const digits = Math.max(0, Math.min(9, Math.trunc(scale)));
  if (digits === 0) return '';
  return `.${String(Math.trunc(nanos)).padStart(9, '0').slice(0, digits)}`;
};

/** `YYYY-MM-DDTHH:MM:SS` of a count of seconds since the epoch, read as UTC wall-clock time. */
const utcSeconds = (epochSeconds: number): string =>
  new Date(epochSeconds * 1000).toISOString().slice(0, 19);

const DECIMAL_TEXT = /^[+-]?\d+(\.\d+)?$/;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const TIME_TEXT = /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;
const TIMESTAMP_TEXT =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const HEX_TEXT = /^(?:[0-9A-Fa-f]{2})*$/;

/** JSON.rawJSON (V8 11.4+, so Node 22) is not in TypeScript's ES2023 lib yet. */
const rawJson = (JSON as JSON & { rawJSON(text: string): unknown }).rawJSON;

/**
 * Parses JSON text with every number kept as its source text, so a VARIANT holding
 * `12345678901234567890123` or `0.1000000000000000055` is written back byte for byte instead of
 * through a JS double.
 */
const parseJsonExact = (text: string): unknown =>
  JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined ? rawJson(context.source) : value
  );

const fail = (column: SnowflakeColumnType, value: unknown, why: string): BadInputError =>
  new BadInputError(
    `${columnLabel(column)} (${column.type}): cannot convert ${describeValue(value)}: ${why}`
  );

const describeValue = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** A number the SDK already turned into a JS double, accepted only while it is still exact. */
const exactNumberText = (value: number, column: SnowflakeColumnType): string => {
  if (Number.isSafeInteger(value)) return String(value);
  const significant = String(value)
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '');
  if (Number.isFinite(value) && significant.length <= 15) return String(value);
  throw fail(column, value, 'a JS number may have lost digits; fetch NUMBER as string');
};

const toDecimalText = (value: unknown, column: SnowflakeColumnType): string => {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return exactNumberText(value, column);
  if (typeof value === 'string' && DECIMAL_TEXT.test(value.trim())) return value.trim();
  throw fail(column, value, 'not a decimal number');
};

const toDouble = (value: unknown, column: SnowflakeColumnType): number | string => {
  const number = typeof value === 'number' ? value : undefined;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  // JSON has no NaN or Infinity; DuckDB casts these three strings to DOUBLE (checked in tests).
  if (number !== undefined ? Number.isNaN(number) : text === 'nan') return 'NaN';
  if (number === Infinity || text === 'inf' || text === '+inf' || text === 'infinity')
    return 'Infinity';
  if (number === -Infinity || text === '-inf' || text === '-infinity') return '-Infinity';
  if (number !== undefined) return number;
  // The shortest text of the nearest double: the same double DuckDB would parse from the raw text.
  const parsed = text === undefined || text === '' ? Number.NaN : Number(text);
  if (Number.isNaN(parsed)) throw fail(column, value, 'not a number');
  return parsed;
};

const toTimestampText = (
  value: unknown,
  column: SnowflakeColumnType,
  zone: 'utc' | 'none'
): string => {
  const suffix = zone === 'utc' ? 'Z' : '';
  if (isSfDate(value)) {
    // Epoch seconds + nanoseconds are exact; for TIMESTAMP_NTZ the SDK counts the wall-clock
    // time as if it were UTC, so the same arithmetic gives the wall-clock text.
    const scale = value.getScale?.() ?? column.scale ?? 9;
    return `${utcSeconds(value.getEpochSeconds())}${fraction(value.getNanoSeconds(), scale)}${suffix}`;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw fail(column, value, 'invalid date');
    return `${value.toISOString().slice(0, 23)}${suffix}`;
  }
  if (typeof value !== 'string') throw fail(column, value, 'not a timestamp');
  const match = TIMESTAMP_TEXT.exec(value.trim());
  if (!match) throw fail(column, value, 'not an ISO-8601 timestamp');
  const [, date, time, digits, offset] = match;
  const fractionText = digits ? `.${digits}` : '';
  if (zone === 'none') return `${date}T${time}${fractionText}`;
  if (offset === undefined) throw fail(column, value, 'an instant needs a UTC offset');
  const offsetMinutes = offsetToMinutes(offset);
  const wallClock = Date.parse(`${date}T${time}Z`);
  if (Number.isNaN(wallClock)) throw fail(column, value, 'invalid date');
  // Only whole seconds move with the offset; the fraction digits are carried over verbatim.
  return `${utcSeconds(wallClock / 1000 - offsetMinutes * 60)}${fractionText}Z`;
};

const offsetToMinutes = (offset: string): number => {
  if (offset.toUpperCase() === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
};

const toDateText = (value: unknown, column: SnowflakeColumnType): string => {
  if (isSfDate(value)) return utcSeconds(value.getEpochSeconds()).slice(0, 10);
  if (value instanceof Date && !Number.isNaN(value.getTime()))
    return value.toISOString().slice(0, 10);
  if (typeof value === 'string' && DATE_TEXT.test(value.trim())) return value.trim();
  throw fail(column, value, 'not a YYYY-MM-DD date');
};

const toTimeText = (value: unknown, column: SnowflakeColumnType): string => {
  if (isSfTime(value)) {
    const scale = value.getScale?.() ?? column.scale ?? 9;
    return `${utcSeconds(value.getMidnightSeconds()).slice(11)}${fraction(value.getNanoSeconds(), scale)}`;
  }
  if (typeof value === 'string' && TIME_TEXT.test(value.trim())) return value.trim();
  throw fail(column, value, 'not an HH:MM:SS[.fffffffff] time');
};

const toBoolean = (value: unknown, column: SnowflakeColumnType): boolean => {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toUpperCase();
  if (text === 'TRUE' || text === '1') return true;
  if (text === 'FALSE' || text === '0') return false;
  throw fail(column, value, 'not a boolean');
};

const toJson = (value: unknown, column: SnowflakeColumnType): unknown => {
  if (typeof value === 'string') {
    try {
      return parseJsonExact(value);
    } catch (error) {
      throw fail(column, value, `not JSON text (${(error as Error).message})`);
    }
  }
  // Structured OBJECT/ARRAY/MAP columns arrive already parsed (MAP as a JS Map).
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
};

const toHex = (value: unknown, column: SnowflakeColumnType): string => {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex').toUpperCase();
  if (typeof value === 'string' && HEX_TEXT.test(value)) return value.toUpperCase();
  throw fail(column, value, 'not bytes or hex text');
};

/**
 * Converts one value as snowflake-sdk returns it into the JSON-safe value that DuckDB's
 * `read_json` reads back as `duckDbTypeOf(column)`.
 *
 * Expects what {@link SnowflakeWarehouse} asks the SDK for: NUMBER and semi-structured values
 * as their exact server text (`fetchAsString: ['Number', 'JSON']`), dates and timestamps as
 * `SfDate` objects (their epoch seconds and nanoseconds are exact and do not depend on the
 * session's output formats), TIME as `HH:MM:SS.fffffffff` text, BINARY as a Buffer. Plain JS
 * numbers, Dates, ISO-8601 strings and hex strings are accepted too, as long as no digit is lost.
 *
 * @example
 * toJsonValue('12345678901234567890123', { type: 'fixed', precision: 38, scale: 0 });
 * // '12345678901234567890123'
 * toJsonValue('2026-01-02T03:04:05.123+05:00', { type: 'timestamp_tz', scale: 3 });
 * // '2026-01-01T22:04:05.123Z'
 * @param value - one cell as the SDK returned it
 * @param column - the cell's column type
 * @throws BadInputError naming the column when the value does not fit its type
 */
export const toJsonValue = (value: unknown, column: SnowflakeColumnType): unknown => {
  if (value === null || value === undefined) return null;
  const family = familyOf(column);
  // snowflake-sdk spells NULL as the string 'NULL' for string-fetched types unless
  // `representNullAsStringNull: false`; no non-text type can hold that text, so it is NULL.
  if (value === 'NULL' && family !== TypeFamily.Varchar && family !== TypeFamily.Geo) return null;
  switch (family) {
    case TypeFamily.BigInt: {
      const text = toDecimalText(value, column);
      if (text.includes('.')) throw fail(column, value, 'not an integer');
      const number = Number(text);
      // Within 2^53 a JSON number is exact; beyond it the exact digits travel as a string.
      return Number.isSafeInteger(number) ? number : text;
    }
    case TypeFamily.Decimal:
      return toDecimalText(value, column);
    case TypeFamily.Double:
      return toDouble(value, column);
    case TypeFamily.Varchar:
      return typeof value === 'string' ? value : String(value);
    case TypeFamily.Boolean:
      return toBoolean(value, column);
    case TypeFamily.Date:
      return toDateText(value, column);
    case TypeFamily.Time:
      return toTimeText(value, column);
    case TypeFamily.Timestamp:
      return toTimestampText(value, column, 'none');
    case TypeFamily.TimestampTz:
      return toTimestampText(value, column, 'utc');
    case TypeFamily.Json:
      return toJson(value, column);
    case TypeFamily.BinaryHex:
      return toHex(value, column);
    case TypeFamily.Geo:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
};
