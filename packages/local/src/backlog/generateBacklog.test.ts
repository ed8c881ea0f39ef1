import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { weekPrefix } from '@strata/core/plan-backlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import {
  type GeneratedBacklog,
  type GeneratedObject,
  generateBacklog,
  writeEventLines,
} from './generateBacklog.js';

let lake: LocalLake;
let backlog: GeneratedBacklog;

/**
 * Reads an object back and counts its records and unreadable parts independently, with the
 * field names and the `DATE` values it holds.
 */
const recount = async (key: string, gzip: boolean) => {
  const body = Buffer.from((await lake.store.get(key)) ?? new Uint8Array());
  let text: string;
  try {
    text = (gzip ? gunzipSync(body) : body).toString('utf8');
  } catch {
    return { records: 0, malformed: 1, fields: new Set<string>(), dates: new Set<string>() };
  }
  const fields = new Set<string>();
  const dates = new Set<string>();
  const parse = (chunk: string): number => {
    const value = JSON.parse(chunk) as Record<string, unknown> | Record<string, unknown>[];
    const rows = Array.isArray(value) ? value : [value];
    for (const row of rows) {
      for (const field of Object.keys(row)) fields.add(field);
      if (typeof row.DATE === 'string') dates.add(row.DATE);
    }
    return rows.length;
  };
  if (text.trim() === '') return { records: 0, malformed: 0, fields, dates };
  try {
    return { records: parse(text), malformed: 0, fields, dates };
  } catch {
    let records = 0;
    let malformed = 0;
    for (const line of text.split('\n').filter(Boolean)) {
      try {
        records += parse(line);
      } catch {
        malformed++;
      }
    }
    return { records, malformed, fields, dates };
  }
};

beforeAll(async () => {
  lake = await startLocalLake();
  backlog = await generateBacklog({ store: lake.store, targetBytes: 3 * 1024 * 1024, seed: 11 });
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: generateBacklog', () => {
  it('reports exactly the records and malformed parts each object holds', async () => {
    for (const object of backlog.objects) {
      // Act
      const counted = await recount(object.key, object.gzip);

      // Assess
      expect({ key: object.key, records: counted.records, malformed: counted.malformed }).toEqual({
        key: object.key,
        records: object.records,
        malformed: object.malformed,
      });
    }
    expect(backlog.records).toBe(backlog.objects.reduce((sum, o) => sum + o.records, 0));
  });

  it('mixes formats, gzip, weekly drops, damage and schema drift', async () => {
    // Act
    const keys = backlog.objects.map((object) => object.key);
    const late = await recount(
      keys.filter((key) => key.includes('/all_historical_files/clickstream-'))[0] ?? '',
      false
    );
    const fields = new Set<string>();
    for (const object of backlog.objects.filter((o) => o.format === 'jsonl' && !o.gzip)) {
      for (const field of (await recount(object.key, false)).fields) fields.add(field);
    }

    // Assess
    expect(new Set(backlog.objects.map((object) => object.format))).toEqual(
      new Set(['jsonl', 'array', 'document'])
    );
    expect(backlog.objects.some((object) => object.gzip)).toBe(true);
    expect(keys.some((key) => /^raw\/\w+\/\d{4}\/week\d{2}\//.test(key))).toBe(true);
    expect(backlog.malformed).toBeGreaterThan(3);
    expect(late.fields.has('experiments')).toBe(false);
    expect(fields.has('experiments')).toBe(true);
  });

  it("puts each weekly drop in the folder of its records' ISO week", async () => {
    // Prepare
    const weekly = backlog.objects.filter((object) => !object.key.includes('/all_historical_'));

    for (const object of weekly) {
      // Act
      const { dates } = await recount(object.key, object.gzip);
      const feed = object.key.split('/')[1] ?? '';
      const folders = [...dates].map((date) => weekPrefix(feed, new Date(date)));

      // Assess
      expect(dates.size).toBeGreaterThan(0);
      expect(new Set(folders)).toEqual(
        new Set([object.key.slice(0, object.key.lastIndexOf('/') + 1)])
      );
    }
  });

  it('writes the same backlog for the same seed', async () => {
    // Prepare
    const other = await startLocalLake();

    // Act
    const again = await generateBacklog({
      store: other.store,
      targetBytes: 3 * 1024 * 1024,
      seed: 11,
    });
    await other.stop();

    // Assess
    expect(again.objects).toEqual(backlog.objects);
  });

  it('sizes objects around objectBytes', async () => {
    // Prepare
    const other = await startLocalLake();
    const median = (objects: readonly GeneratedObject[]) => {
      const sizes = objects
        .filter((o) => o.format === 'jsonl' && !o.gzip)
        .map((o) => o.bytes)
        .sort((a, b) => a - b);
      return sizes[Math.floor(sizes.length / 2)] ?? 0;
    };

    // Act
    const large = await generateBacklog({
      store: other.store,
      targetBytes: 3 * 1024 * 1024,
      seed: 11,
      objectBytes: 512 * 1024,
    });
    await other.stop();

    // Assess
    expect(median(large.objects)).toBeGreaterThan(256 * 1024);
    expect(median(large.objects)).toBeLessThan(1024 * 1024);
    expect(median(backlog.objects)).toBeLessThan(100 * 1024);
    expect(large.objects.length).toBeLessThan(backlog.objects.length / 3);
  });
});

describe('Function: writeEventLines', () => {
  it('streams valid, drifting JSON lines and reports exactly what it wrote', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'strata-event-lines-'));
    const path = join(dir, 'events.jsonl');

    // Act
    const written = await writeEventLines({ path, targetBytes: 2.5 * 1024 * 1024, days: 3 });
    const text = await readFile(path, 'utf8');
    await rm(dir, { recursive: true, force: true });

    // Assess
    const events = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { DATE: string; experiments?: string[] });
    expect(Buffer.byteLength(text)).toBe(written.bytes);
    expect(written.bytes).toBeGreaterThanOrEqual(2.5 * 1024 * 1024);
    expect(events).toHaveLength(written.records);
    expect(events[0]?.experiments).toBeUndefined();
    expect(events.at(-1)?.experiments).toHaveLength(2);
    expect(new Set(events.map((e) => e.DATE))).toEqual(
      new Set(['2024-01-01', '2024-01-02', '2024-01-03'])
    );
  });
});
