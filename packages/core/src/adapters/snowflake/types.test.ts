import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../engine/index.js';
import { ErrorName } from '../../errors/index.js';
import { duckDbTypeOf, type SnowflakeColumnType, toJsonValue } from './types.js';

/** An SfDate as snowflake-sdk builds it: a Date plus exact epoch seconds and nanoseconds. */
const sfDate = (iso: string, nanos: number, scale = 9) =>
  Object.assign(new Date(iso), {
    getEpochSeconds: () => Math.floor(Date.parse(iso) / 1000),
    getNanoSeconds: () => nanos,
    getScale: () => scale,
  });

interface Case {
  /** The table row (Snowflake type) under test. */
  name: string;
  column: SnowflakeColumnType;
  /** A value as snowflake-sdk returns it with the adapter's fetch options. */
  input: unknown;
  duckDbType: string;
  /** The converted value as it lands in the JSON-lines file. */
  json: string;
  /** `v::varchar` after DuckDB read the JSON line with the column's type. */
  readBack: string;
  /** Optional extra expression over `v` and what it must return. */
  check?: { sql: string; expected: unknown };
}

const CASES: Case[] = [
  {
    name: 'NUMBER(10,0) fits a JSON number',
    column: { type: 'fixed', precision: 10, scale: 0 },
    input: '42',
    duckDbType: 'BIGINT',
    json: JSON.stringify(42),
    readBack: '42',
  },
  {
    name: 'NUMBER(18,0) beyond 2^53 stays exact as a string',
    column: { type: 'fixed', precision: 18, scale: 0 },
    input: '123456789012345678',
    duckDbType: 'BIGINT',
    json: JSON.stringify('123456789012345678'),
    readBack: '123456789012345678',
  },
  {
    name: 'NUMBER(38,0) is an exact DECIMAL',
    column: { type: 'fixed', precision: 38, scale: 0 },
    input: '12345678901234567890123',
    duckDbType: 'DECIMAL(38,0)',
    json: JSON.stringify('12345678901234567890123'),
    readBack: '12345678901234567890123',
  },
  {
    name: 'NUMBER(12,2) keeps its scale',
    column: { type: 'NUMBER', precision: 12, scale: 2 },
    input: '-1234567890.25',
    duckDbType: 'DECIMAL(12,2)',
    json: JSON.stringify('-1234567890.25'),
    readBack: '-1234567890.25',
  },
  {
    name: 'NUMBER(38,37) keeps 37 decimals',
    column: { type: 'DECIMAL', precision: 38, scale: 37 },
    input: '0.1234567890123456789012345678901234567',
    duckDbType: 'DECIMAL(38,37)',
    json: JSON.stringify('0.1234567890123456789012345678901234567'),
    readBack: '0.1234567890123456789012345678901234567',
  },
  {
    name: 'FLOAT is a DOUBLE',
    column: { type: 'real' },
    input: '1.5',
    duckDbType: 'DOUBLE',
    json: JSON.stringify(1.5),
    readBack: '1.5',
  },
  {
    name: 'FLOAT NaN',
    column: { type: 'FLOAT' },
    input: 'NaN',
    duckDbType: 'DOUBLE',
    json: JSON.stringify('NaN'),
    readBack: 'nan',
    check: { sql: 'isnan(v)', expected: true },
  },
  {
    name: 'FLOAT inf',
    column: { type: 'DOUBLE' },
    input: 'inf',
    duckDbType: 'DOUBLE',
    json: JSON.stringify('Infinity'),
    readBack: 'inf',
    check: { sql: "v = 'Infinity'::double", expected: true },
  },
  {
    name: 'FLOAT -inf',
    column: { type: 'REAL' },
    input: -Infinity,
    duckDbType: 'DOUBLE',
    json: JSON.stringify('-Infinity'),
    readBack: '-inf',
    check: { sql: "v = '-Infinity'::double", expected: true },
  },
  {
    name: 'VARCHAR',
    column: { type: 'text', precision: null, scale: null },
    input: 'héllo "quoted"\n\u0000end',
    duckDbType: 'VARCHAR',
    json: JSON.stringify('héllo "quoted"\n\u0000end'),
    readBack: 'héllo "quoted"\n\u0000end',
  },
  {
    name: 'CHAR',
    column: { type: 'CHAR' },
    input: 'x',
    duckDbType: 'VARCHAR',
    json: JSON.stringify('x'),
    readBack: 'x',
  },
  {
    name: 'BOOLEAN',
    column: { type: 'boolean' },
    input: true,
    duckDbType: 'BOOLEAN',
    json: JSON.stringify(true),
    readBack: 'true',
  },
  {
    name: 'DATE from an SfDate',
    column: { type: 'date' },
    input: sfDate('2026-01-02T00:00:00Z', 0, 0),
    duckDbType: 'DATE',
    json: JSON.stringify('2026-01-02'),
    readBack: '2026-01-02',
  },
  {
    name: 'TIME with nanoseconds (DuckDB keeps microseconds)',
    column: { type: 'time', scale: 9 },
    input: '03:04:05.123456789',
    duckDbType: 'TIME',
    json: JSON.stringify('03:04:05.123456789'),
    readBack: '03:04:05.123456',
  },
  {
    name: 'TIMESTAMP_NTZ from an SfDate keeps the wall-clock time',
    column: { type: 'timestamp_ntz', scale: 9 },
    input: sfDate('2026-01-02T03:04:05Z', 123_456_789),
    duckDbType: 'TIMESTAMP',
    json: JSON.stringify('2026-01-02T03:04:05.123456789'),
    readBack: '2026-01-02 03:04:05.123456',
  },
  {
    name: 'TIMESTAMP_TZ text with an offset becomes UTC',
    column: { type: 'TIMESTAMP_TZ', scale: 3 },
    input: '2026-01-02T03:04:05.123+05:00',
    duckDbType: 'TIMESTAMPTZ',
    json: JSON.stringify('2026-01-01T22:04:05.123Z'),
    readBack: '2026-01-01 22:04:05.123+00',
  },
  {
    name: 'TIMESTAMP_TZ from an SfDate is the UTC instant',
    column: { type: 'timestamp_tz', scale: 9 },
    // The SDK's epoch seconds are UTC whatever the value's offset (+05:00 here).
    input: sfDate('2026-01-01T22:04:05Z', 123_000_000),
    duckDbType: 'TIMESTAMPTZ',
    json: JSON.stringify('2026-01-01T22:04:05.123000000Z'),
    readBack: '2026-01-01 22:04:05.123+00',
  },
  {
    name: 'TIMESTAMP_LTZ from an SfDate at scale 0',
    column: { type: 'timestamp_ltz', scale: 0 },
    input: sfDate('1969-12-31T23:59:59Z', 0, 0),
    duckDbType: 'TIMESTAMPTZ',
    json: JSON.stringify('1969-12-31T23:59:59Z'),
    readBack: '1969-12-31 23:59:59+00',
  },
  {
    name: 'VARIANT object keeps big numbers exact',
    column: { type: 'variant' },
    input: '{"a":12345678901234567890123,"b":[1,2.5],"c":"x","d":null}',
    duckDbType: 'JSON',
    json: '{"a":12345678901234567890123,"b":[1,2.5],"c":"x","d":null}',
    readBack: '{"a":12345678901234567890123,"b":[1,2.5],"c":"x","d":null}',
    check: { sql: "v->>'$.a'", expected: '12345678901234567890123' },
  },
  {
    name: 'ARRAY',
    column: { type: 'ARRAY' },
    input: '[1,"two",null]',
    duckDbType: 'JSON',
    json: JSON.stringify([1, 'two', null]),
    readBack: '[1,"two",null]',
  },
  {
    name: 'OBJECT holding a string scalar VARIANT',
    column: { type: 'OBJECT' },
    input: '{"k":"v"}',
    duckDbType: 'JSON',
    json: JSON.stringify({ k: 'v' }),
    readBack: '{"k":"v"}',
  },
  {
    name: 'BINARY as upper-case hex',
    column: { type: 'binary' },
    input: Buffer.from([0xde, 0xad, 0x00, 0xff]),
    duckDbType: 'VARCHAR',
    json: JSON.stringify('DEAD00FF'),
    readBack: 'DEAD00FF',
    check: { sql: "from_hex(v) = '\\xDE\\xAD\\x00\\xFF'::blob", expected: true },
  },
  {
    name: 'GEOGRAPHY as GeoJSON text',
    column: { type: 'GEOGRAPHY' },
    input: '{"coordinates":[1,2],"type":"Point"}',
    duckDbType: 'VARCHAR',
    json: JSON.stringify('{"coordinates":[1,2],"type":"Point"}'),
    readBack: '{"coordinates":[1,2],"type":"Point"}',
  },
];

let engine: DuckDbEngine;
let dir: string;
let files = 0;

/** Writes rows as JSON lines and reads them back exactly as runExtract does. */
const roundTrip = async (
  rows: Record<string, unknown>[],
  columns: Record<string, string>,
  select: string
) => {
  const path = join(dir, `rows-${files++}.jsonl`);
  await writeFile(path, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
  const struct = Object.entries(columns)
    .map(([name, type]) => `'${name}': '${type}'`)
    .join(', ');
  return engine.all(
    `select ${select} from read_json('${path}', format = 'newline_delimited', columns = {${struct}})`
  );
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-snowflake-types-'));
  engine = await DuckDbEngine.create();
  await engine.run(`set TimeZone = 'UTC'`);
});

afterAll(async () => {
  engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Function: duckDbTypeOf', () => {
  it.each(CASES)('maps $name', ({ column, duckDbType }) => {
    // Act
    const type = duckDbTypeOf(column);

    // Assess
    expect(type).toBe(duckDbType);
  });

  it('accepts DESCRIBE spellings with a length', () => {
    // Act & Assess
    expect(duckDbTypeOf({ type: 'VARCHAR(16777216)' })).toBe('VARCHAR');
    expect(duckDbTypeOf({ type: 'number(38,0)', precision: 38, scale: 0 })).toBe('DECIMAL(38,0)');
  });

  it('rejects an unknown type naming the column', () => {
    // Act & Assess
    expect(() => duckDbTypeOf({ name: 'EMBEDDING', type: 'vector' })).toThrow(
      expect.objectContaining({
        name: ErrorName.BadInput,
        message: expect.stringContaining('column EMBEDDING: Snowflake type vector'),
      })
    );
  });
});

describe('Function: toJsonValue', () => {
  it.each(CASES)('converts $name', ({ column, input, json }) => {
    // Act
    const value = toJsonValue(input, column);

    // Assess: as JSON text, which is what lands in the file (raw JSON numbers included)
    expect(JSON.stringify(value)).toBe(json);
  });

  it.each(CASES)('returns null for a NULL $name', ({ column }) => {
    // Act & Assess
    expect(toJsonValue(null, column)).toBeNull();
    expect(toJsonValue(undefined, column)).toBeNull();
  });

  it("reads the SDK's 'NULL' text as NULL for non-text types only", () => {
    // Act & Assess
    expect(toJsonValue('NULL', { type: 'fixed', precision: 38, scale: 0 })).toBeNull();
    expect(toJsonValue('NULL', { type: 'text' })).toBe('NULL');
  });

  it('rejects a JS number that may have lost digits', () => {
    // Act & Assess
    expect(() =>
      toJsonValue(12345678901234567000, { name: 'ID', type: 'fixed', precision: 38, scale: 0 })
    ).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
  });

  it('rejects an instant without an offset naming the column', () => {
    // Act & Assess
    expect(() =>
      toJsonValue('2026-01-02 03:04:05', { name: 'UPDATED_AT', type: 'timestamp_tz' })
    ).toThrow(/column UPDATED_AT/);
  });

  it('rejects malformed VARIANT text', () => {
    // Act & Assess
    expect(() => toJsonValue('{nope', { name: 'PAYLOAD', type: 'variant' })).toThrow(
      expect.objectContaining({ name: ErrorName.BadInput })
    );
  });
});

describe('Round trip: JSON lines into DuckDB read_json', () => {
  it.each(CASES)(
    'reads $name back as its DuckDB type',
    async ({ column, input, readBack, check }) => {
      // Prepare
      const type = duckDbTypeOf(column);
      const v = toJsonValue(input, column);

      // Act
      const [row] = await roundTrip(
        [{ v }],
        { v: type },
        `v::varchar as text, typeof(v) = typeof(cast(null as ${type})) as typed`
      );
      const [checked] = check ? await roundTrip([{ v }], { v: type }, `${check.sql} as ok`) : [];

      // Assess
      expect(row).toEqual({ text: readBack, typed: true });
      if (check) expect(checked?.ok).toEqual(check.expected);
    }
  );

  it('reads every type in one row, NULLs included', async () => {
    // Prepare
    const columns = Object.fromEntries(CASES.map((c, i) => [`c${i}`, duckDbTypeOf(c.column)]));
    const values = Object.fromEntries(
      CASES.map((c, i) => [`c${i}`, toJsonValue(c.input, c.column)])
    );
    const nulls = Object.fromEntries(CASES.map((c, i) => [`c${i}`, toJsonValue(null, c.column)]));

    // Act
    const rows = await roundTrip(
      [values, nulls],
      columns,
      CASES.map((_, i) => `c${i}::varchar as c${i}`).join(', ')
    );

    // Assess
    expect(rows[0]).toEqual(Object.fromEntries(CASES.map((c, i) => [`c${i}`, c.readBack])));
    expect(Object.values(rows[1] ?? {}).every((value) => value === null)).toBe(true);
  });

  it('cannot carry bytes into a BLOB column, which is why BINARY is hex text', async () => {
    // Act: DuckDB stores the JSON string's UTF-8 bytes verbatim, escapes included.
    const [row] = await roundTrip([{ v: '\\xDE\\xAD' }], { v: 'BLOB' }, 'octet_length(v) as n');

    // Assess
    expect(row?.n).not.toBe('2');
  });
});
