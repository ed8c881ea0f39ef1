import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DynamoDbLedger } from '@strata/core/adapters';
import { quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { type FlatColumn, readBatchManifest, runFlattenBatch } from '@strata/core/flatten';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKeys } from '../packages/core/src/flatten/structure.js';
import { HOSTILE_CLASSES, type HostileClass } from './support/hostileCorpus.js';
import { keysUnder } from './support/lake.js';
import { type LocalLake, startLocalLake } from './support/localLake.js';
import {
  type JsonNode,
  leavesOf,
  parseLossless,
  sameValues,
  stringifyLossless,
} from './support/losslessJson.js';

let lake: LocalLake;
let ledger: DynamoDbLedger;

beforeAll(async () => {
  lake = await startLocalLake();
  ledger = lake.ledger;
});

afterAll(async () => {
  await lake?.stop();
});

const decoder = new TextDecoder();
const text = async (key: string) => decoder.decode((await lake.store.get(key)) ?? new Uint8Array());

/** The text of a raw object as the test reads it: its byte order mark, if any, decoded. */
const decode = (bytes: Buffer): string => {
  const opens = (...mark: number[]) => mark.every((byte, i) => bytes[i] === byte);
  if (opens(0xff, 0xfe, 0, 0) || opens(0, 0, 0xfe, 0xff)) {
    const little = bytes[0] === 0xff;
    const codes: number[] = [];
    for (let i = 4; i + 4 <= bytes.length; i += 4)
      codes.push(little ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i));
    return String.fromCodePoint(...codes);
  }
  if (opens(0xff, 0xfe)) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (opens(0xfe, 0xff)) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
};

/** The JSON texts of a text written as one document after another, if it is one. */
const documents = (body: string): string[] | undefined => {
  const found: string[] = [];
  let rest = body.trim();
  while (rest) {
    // The shortest prefix that parses is one document (a pretty one spans lines).
    let end = 0;
    for (let i = 1; i <= rest.length && end === 0; i++) {
      if (!'}]'.includes(rest[i - 1] as string)) continue;
      try {
        parseLossless(rest.slice(0, i));
        end = i;
      } catch {}
    }
    if (end === 0) return undefined;
    found.push(rest.slice(0, end));
    rest = rest.slice(end).trim();
  }
  return found;
};

/** What the lake was given in one object: its items (records or not), each as text. */
const itemsOf = (bytes: Buffer): string[] => {
  const body = decode(bytes);
  const trimmed = body.trim();
  if (trimmed.startsWith('[')) {
    try {
      const array = parseLossless(trimmed);
      if (array.kind === 'array') return array.items.map(stringifyLossless);
    } catch {}
  }
  const lines = body.split('\n').filter((line) => line.trim() !== '');
  const first = lines[0];
  if (first !== undefined) {
    try {
      parseLossless(first);
    } catch {
      const docs = documents(body);
      if (docs && docs.length > 0) return docs;
    }
  }
  return lines;
};

/** Rebuilds a record from its row: every column's value at its path, misfits from `_variant`. */
const recordOf = (row: JsonNode, columns: readonly FlatColumn[]): JsonNode => {
  const root: JsonNode = { kind: 'object', members: [] };
  const put = (keys: readonly string[], value: JsonNode) => {
    let node: JsonNode = root;
    for (const key of keys.slice(0, -1)) {
      let next = node.kind === 'object' ? node.members.find(([k]) => k === key)?.[1] : undefined;
      if (!next && node.kind === 'object') {
        next = { kind: 'object', members: [] };
        node.members.push([key, next]);
      }
      node = next as JsonNode;
    }
    if (node.kind === 'object') node.members.push([keys.at(-1) as string, value]);
  };
  const byName = new Map(columns.map((column) => [column.name, column]));
  if (row.kind !== 'object') return root;
  for (const [name, value] of row.members) {
    if (name === '_variant' && value.kind === 'array') {
      for (const misfit of value.items) {
        if (misfit.kind !== 'object') continue;
        // Keyed by column, or by its JSON path for an empty object flattened into columns.
        for (const [column, kept] of misfit.members) {
          put(pathKeys(byName.get(column)?.path ?? column), kept);
        }
      }
      continue;
    }
    const column = byName.get(name);
    if (!column || value.kind === 'null') continue;
    put(pathKeys(column.path), value);
  }
  return root;
};

interface Outcome {
  rows: number;
  lines: number;
  objects: number;
  /** Leaves given, found again in their row, in quarantine, nowhere, or in a row that was not given. */
  leaves: { given: number; kept: number; quarantined: number; lost: number; altered: number };
  /** Quarantined lines that fail to name their file, line or reason. */
  unnamed: number;
}

/** Flattens a class as a batch of its own and accounts for every leaf it was given. */
const judge = async (hostile: HostileClass, infer: 'wide' | 'always'): Promise<Outcome> => {
  const prefix = `raw/hostile/${infer}/${hostile.name}/`;
  const given = Object.entries(hostile.files).map(([name, body]) => ({
    key: `${prefix}${name}`,
    bytes: Buffer.from(body),
  }));
  for (const file of given) await lake.store.put(file.key, file.bytes);
  const result = await DuckDbEngine.use({}, (engine) =>
    runFlattenBatch(
      {
        feed: 'hostile',
        batchId: `${infer}-${hostile.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
        objects: given.map((file) => ({ key: file.key, size: file.bytes.length })),
      },
      {
        store: lake.store,
        engine,
        ledger,
        options: {
          separator: '_',
          maxDepth: 3,
          partition: { date: 'DATE', mode: 'MODE' },
          leaveInPlace: true,
          infer,
          ...(hostile.maxRecordBytes ? { maxRecordBytes: hostile.maxRecordBytes } : {}),
        },
      }
    )
  );
  const columns = (JSON.parse(await text(result.schemaKey)) as { columns: FlatColumn[] }).columns;
  const parts: string[] = [];
  for (const [i, key] of (
    await readBatchManifest(lake.store, result.manifestKey)
  ).outputs.entries()) {
    const local = join(lake.dir, `${result.batchId}-${i}.parquet`);
    await lake.store.download(key, local);
    parts.push(quoteLiteral(local));
  }
  const rows = parts.length
    ? await DuckDbEngine.use({}, (engine) =>
        engine.all(
          `select _source_key as file, to_json(t)::varchar as row from read_parquet([${parts.join(', ')}], union_by_name = true, hive_partitioning = false) t`
        )
      )
    : [];
  const quarantine = `quarantine/hostile/batch=${result.batchId}/`;
  const records = (await keysUnder(lake.store, quarantine)).includes(`${quarantine}records.jsonl`)
    ? (await text(`${quarantine}records.jsonl`))
        .split('\n')
        .filter(Boolean)
        .map(
          (line) => JSON.parse(line) as { file: string; line: number; error: string; text: string }
        )
    : [];
  const sidecars = (await keysUnder(lake.store, quarantine)).filter((k) =>
    k.endsWith('.error.json')
  );
  const wholes = new Map<string, Buffer>();
  for (const sidecar of sidecars) {
    const { file } = JSON.parse(await text(sidecar)) as { file: string };
    wholes.set(
      file,
      Buffer.from((await lake.store.get(sidecar.replace(/\.error\.json$/, ''))) ?? [])
    );
  }

  const leaves = { given: 0, kept: 0, quarantined: 0, lost: 0, altered: 0 };
  const count = (item: string) => {
    try {
      return leavesOf(parseLossless(item)).length;
    } catch {
      return 1;
    }
  };
  for (const file of given) {
    const whole = wholes.get(file.key);
    const items = whole
      ? ['']
      : itemsOf(file.key.endsWith('.gz') ? gunzipSync(file.bytes) : file.bytes);
    const itemLeaves = items.reduce((total, item) => total + count(item), 0);
    leaves.given += itemLeaves;
    if (whole) {
      // Quarantined whole: the object as it was, byte for byte.
      if (whole.equals(file.bytes)) leaves.quarantined += itemLeaves;
      else leaves.altered += itemLeaves;
      continue;
    }
    const pool = rows
      .filter((row) => row.file === file.key)
      .map((row) => recordOf(parseLossless(String(row.row)), columns));
    const held = records.filter((record) => record.file === file.key);
    for (const item of items) {
      const n = count(item);
      const inQuarantine = held.findIndex((record) => {
        if (record.text.trim() === item.trim()) return true;
        try {
          return sameValues(parseLossless(item), parseLossless(record.text));
        } catch {
          return false;
        }
      });
      if (inQuarantine >= 0) {
        held.splice(inQuarantine, 1);
        leaves.quarantined += n;
        continue;
      }
      let value: JsonNode | undefined;
      try {
        value = parseLossless(item);
      } catch {}
      const match = value ? pool.findIndex((kept) => sameValues(value, kept)) : -1;
      if (match >= 0) {
        pool.splice(match, 1);
        leaves.kept += n;
      } else leaves.lost += n;
    }
    leaves.altered += pool.reduce((total, kept) => total + leavesOf(kept).length, 0);
  }
  return {
    rows: rows.length,
    lines: records.length,
    objects: wholes.size,
    leaves,
    unnamed: records.filter((r) => !r.file || !(r.line >= 1) || !r.error).length,
  };
};

/** Each class's outcome, for the table `HOSTILE_TABLE=<file>` writes (docs/hostile-corpus.md). */
const outcomes = new Map<string, Outcome>();

afterAll(async () => {
  const file = process.env.HOSTILE_TABLE;
  if (!file) return;
  const rows = [...outcomes].map(
    ([name, o]) =>
      `| ${name} | ${o.rows} | ${o.lines} | ${o.objects} | ${o.leaves.given} | ${o.leaves.kept} | ${o.leaves.quarantined} | ${o.leaves.lost} | ${o.leaves.altered} |`
  );
  await writeFile(
    file,
    [
      '| class | rows | lines quarantined | objects quarantined | leaves given | kept exactly | quarantined | lost | altered |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n')
  );
});

describe('The hostile corpus', () => {
  it('holds at least 40 classes', () => {
    // Assess
    expect(HOSTILE_CLASSES.length).toBeGreaterThanOrEqual(40);
  });

  // Each class as the sample plans it, and again typed from DuckDB's inference over every
  // record (writeInferred), which wide batches take.
  it.each(
    (['wide', 'always'] as const).flatMap((infer) =>
      HOSTILE_CLASSES.map((hostile) => [hostile.name, infer, hostile] as const)
    )
  )(
    'keeps every leaf of %s (infer: %s) exactly, or quarantines it with its file, line and reason',
    async (_name, infer, hostile) => {
      // Act
      const outcome = await judge(hostile, infer);
      if (infer === 'wide') outcomes.set(hostile.name, outcome);

      // Assess
      const { leaves } = outcome;
      expect({
        rows: outcome.rows,
        lines: outcome.lines,
        objects: outcome.objects,
        lost: leaves.lost,
        altered: leaves.altered,
        accounted: leaves.kept + leaves.quarantined === leaves.given,
        unnamed: outcome.unnamed,
      }).toEqual({ ...hostile.expect, lost: 0, altered: 0, accounted: true, unnamed: 0 });
    }
  );
});
