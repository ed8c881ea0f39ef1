import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { configSchema } from './schema.js';
import { parseOrThrow } from './validate.js';

const defaultConfig = async () =>
  JSON.parse(await readFile(new URL('../../../../config/strata.json', import.meta.url), 'utf8'));

describe('Function: parseOrThrow', () => {
  it('accepts the shipped default config and fills defaults', async () => {
    // Prepare
    const raw = await defaultConfig();
    delete raw.batch_size;

    // Act
    const config = parseOrThrow(configSchema, raw, 'config');

    // Assess
    expect(config.batch_size).toBe(100_000);
    expect(config.queries.map((query) => query.name)).toEqual([
      'region',
      'nation',
      'customer',
      'part',
      'orders',
      'lineitem',
    ]);
  });

  it('names every bad field with its path', async () => {
    // Prepare
    const raw = await defaultConfig();
    raw.queries[2].name = 'Customer; drop table x';
    raw.queries[4].primary_key = ['O_ORDERKEY"--'];
    delete raw.warehouse.private_key_secret_id;

    // Act
    const attempt = () => parseOrThrow(configSchema, raw, 'config');

    // Assess
    expect(attempt).toThrow(
      expect.objectContaining({
        name: ErrorName.BadInput,
        message: expect.stringMatching(
          /^config: .*warehouse\.private_key_secret_id: .*queries\[2\]\.name: must be lower snake case.*queries\[4\]\.primary_key\[0\]: must be a plain SQL identifier/
        ),
      })
    );
  });

  it('takes a feed that always lists its keys first, and names a key pass it does not know', async () => {
    // Prepare
    const raw = await defaultConfig();
    raw.feeds.clickstream.key_pass = 'always';
    const unknown = { ...raw, feeds: { ...raw.feeds, payments: { key_pass: 'sometimes' } } };

    // Act
    const config = parseOrThrow(configSchema, raw, 'config');
    const attempt = () => parseOrThrow(configSchema, unknown, 'config');

    // Assess
    expect(config.feeds.clickstream?.key_pass).toBe('always');
    expect(config.feeds.devices?.key_pass).toBe('when-needed');
    expect(attempt).toThrow(/feeds\.payments\.key_pass: /);
  });

  it('takes partition paths at any depth, each optional, none by default', async () => {
    // Prepare
    const raw = await defaultConfig();
    raw.feeds.nested = { partition: { date: 'payload.meta.updated_at', date_format: '%d/%m/%Y' } };
    raw.feeds.plain = {};
    const formatOnly = { ...raw, feeds: { odd: { partition: { date_format: '%Y%m%d' } } } };
    const badPath = { ...raw, feeds: { odd: { partition: { mode: 'payload..kind' } } } };

    // Act
    const config = parseOrThrow(configSchema, raw, 'config');

    // Assess
    expect(config.feeds.nested?.partition).toEqual({
      date: 'payload.meta.updated_at',
      date_format: '%d/%m/%Y',
    });
    expect(config.feeds.plain?.partition).toEqual({});
    expect(() => parseOrThrow(configSchema, formatOnly, 'config')).toThrow(
      /feeds\.odd\.partition\.date_format: date_format needs a date/
    );
    expect(() => parseOrThrow(configSchema, badPath, 'config')).toThrow(
      /feeds\.odd\.partition\.mode: must be a dotted path/
    );
  });

  it('rejects two queries with the same name', async () => {
    // Prepare
    const raw = await defaultConfig();
    raw.queries.push({ ...raw.queries[0] });

    // Act
    const attempt = () => parseOrThrow(configSchema, raw, 'config');

    // Assess
    expect(attempt).toThrow(/queries\[6\]\.name: duplicates an earlier query named "region"/);
  });

  it('requires a watermark column for an incremental query, and lookback only there', async () => {
    // Prepare
    const raw = await defaultConfig();
    raw.queries[2].mode = 'incremental';
    raw.queries[3].lookback = 60;

    // Act
    const attempt = () => parseOrThrow(configSchema, raw, 'config');

    // Assess
    expect(attempt).toThrow(
      'config: queries[2].watermark_column: required when incremental; queries[3].lookback: only applies to incremental'
    );
  });

  it('makes a query with a watermark column incremental by default', async () => {
    // Prepare: the default config reads orders and line items by their watermark columns
    const raw = await defaultConfig();

    // Act
    const config = parseOrThrow(configSchema, raw, 'config');

    // Assess
    expect(config.queries.map((query) => query.mode)).toEqual([
      'full_refresh',
      'full_refresh',
      'full_refresh',
      'full_refresh',
      'incremental',
      'incremental',
    ]);
  });

  it('refuses a history table named like a query, naming the field', async () => {
    // Prepare
    const raw = await defaultConfig();
    raw.queries[2].history.table = 'orders';

    // Act
    const act = () => parseOrThrow(configSchema, raw, 'config');

    // Assess
    expect(act).toThrow('config: queries[2].history.table: "orders" is already a query\'s name');
  });
});
