import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { configSchema, parseOrThrow } from '../config/index.js';
import type { ObjectStore } from '../ports/index.js';
import { DuckDbWarehouse } from './DuckDbWarehouse.js';
import { SnowflakeWarehouse } from './snowflake/index.js';
import { warehouseFor } from './warehouseFor.js';

/** warehouseFor only hands the store to the Snowflake adapter; nothing here reads it. */
const unusedStore = {} as ObjectStore;

const shippedConfig = async () =>
  JSON.parse(await readFile(new URL('../../../../config/strata.json', import.meta.url), 'utf8'));

describe('Function: warehouseFor', () => {
  it('builds the Snowflake adapter for the shipped config without reading the key yet', async () => {
    // Prepare
    const config = parseOrThrow(configSchema, await shippedConfig(), 'config');
    const secret = vi.fn(async () => '-----BEGIN PRIVATE KEY-----');

    // Act
    const warehouse = await warehouseFor(config, { secret, store: unusedStore });

    // Assess
    expect(warehouse).toBeInstanceOf(SnowflakeWarehouse);
    expect(secret).not.toHaveBeenCalled();
    await warehouse.close();
  });

  it('builds the embedded DuckDB adapter for a duckdb warehouse', async () => {
    // Prepare
    const raw = await shippedConfig();
    raw.warehouse = { type: 'duckdb', path: '/tmp/none.duckdb' };
    const config = parseOrThrow(configSchema, raw, 'config');

    // Act
    const warehouse = await warehouseFor(config, { secret: vi.fn(), store: unusedStore });

    // Assess
    expect(warehouse).toBeInstanceOf(DuckDbWarehouse);
  });
});
