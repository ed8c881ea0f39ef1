import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckDbCopy } from './baselines.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-baselines-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Events whose user ids and latitudes, past the first, fit no number column. */
const EVENTS = [
  {
    event_id: 'e1',
    DATE: '2024-03-01',
    MODE: 'web',
    user: { id: 7, address: { geo: { lat: 1.5 } } },
  },
  {
    event_id: 'e2',
    DATE: '2024-03-02',
    MODE: 'ios',
    user: { id: '7x', address: { geo: { lat: 'north' } } },
  },
  {
    event_id: 'e3',
    DATE: '2024-03-02',
    MODE: 'ios',
    user: { id: '5', address: { geo: { lat: '1.5' } } },
  },
  { event_id: 'e4', DATE: '2024-03-02', MODE: 'ios', user: { id: 2.5 } },
];

describe('Function: duckDbCopy', () => {
  it('lossless: casts text to the hand-written types and keeps every value that does not fit in _variant', async () => {
    // Arrange
    const file = join(dir, 'events.jsonl');
    await writeFile(file, EVENTS.map((event) => JSON.stringify(event)).join('\n'));
    const out = join(dir, 'lossless');

    // Act
    const rows = await DuckDbEngine.use({ threads: 1 }, async (engine) => {
      await duckDbCopy(engine, { lines: [file], arrays: [] }, out, {
        partitioned: true,
        lossless: true,
      });
      return engine.all(
        `select event_id, user_id, user_address_geo_lat as lat, _variant::varchar as variant, year, day, mode from read_parquet(${quoteLiteral(join(out, '**', '*.parquet'))}, hive_partitioning = true) order by 1`
      );
    });

    // Assess
    expect(
      rows.map((row) => ({ ...row, user_id: row.user_id === null ? null : Number(row.user_id) }))
    ).toEqual([
      { event_id: 'e1', user_id: 7, lat: 1.5, variant: null, year: '2024', day: '01', mode: 'web' },
      {
        event_id: 'e2',
        user_id: null,
        lat: null,
        variant: '[{"user_id":"7x"},{"user_address_geo_lat":"north"}]',
        year: '2024',
        day: '02',
        mode: 'ios',
      },
      {
        event_id: 'e3',
        user_id: null,
        lat: null,
        variant: '[{"user_id":"5"},{"user_address_geo_lat":"1.5"}]',
        year: '2024',
        day: '02',
        mode: 'ios',
      },
      {
        event_id: 'e4',
        user_id: null,
        lat: null,
        variant: '[{"user_id":2.5}]',
        year: '2024',
        day: '02',
        mode: 'ios',
      },
    ]);
  });

  it('typed: the hand-written types null, cast or round the values that do not fit, without a word', async () => {
    // Arrange
    const file = join(dir, 'typed.jsonl');
    await writeFile(file, EVENTS.map((event) => JSON.stringify(event)).join('\n'));
    const out = join(dir, 'typed.parquet');

    // Act
    const rows = await DuckDbEngine.use({ threads: 1 }, async (engine) => {
      await duckDbCopy(engine, { lines: [file], arrays: [] }, out);
      return engine.all(
        `select event_id, user_id, user_address_geo_lat as lat from read_parquet(${quoteLiteral(out)}) order by 1`
      );
    });

    // Assess: "7x" and "north" are gone, strings pass for numbers and 2.5 is rounded to 2, which
    // is why the lossless baseline reads strings as text and numbers as JSON.
    expect(
      rows.map((row) => [row.event_id, row.user_id === null ? null : Number(row.user_id), row.lat])
    ).toEqual([
      ['e1', 7, 1.5],
      ['e2', null, null],
      ['e3', 5, 1.5],
      ['e4', 2, null],
    ]);
  });
});
