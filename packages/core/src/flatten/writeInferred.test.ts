import { join } from 'node:path';
import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { DynamoDbLedger } from '../adapters/index.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { readBatchManifest } from './batchManifest.js';
import type { FlatColumn } from './flattenPlan.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions, FlattenBatchResult } from './types.js';

let lake: LocalLake;
let dynamo: LocalDynamoDb;
let ledger: DynamoDbLedger;

const OPTIONS: FlattenBatchOptions = {
  separator: '_',
  maxDepth: 3,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: true,
  infer: 'always',
};

beforeAll(async () => {
  lake = await startLocalLake();
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'ledger', key: 'object_key' }] });
  ledger = new DynamoDbLedger({ tableName: 'ledger', client: dynamo.client });
});

afterAll(async () => {
  await dynamo?.stop();
  await lake?.stop();
});

/** Flattens records (as JSON Lines) of a feed of their own, with a registry if given. */
const flattenRecords = async (
  feed: string,
  records: readonly unknown[],
  options: Partial<FlattenBatchOptions> = {},
  registry?: FlatColumn[]
) => {
  const key = `raw/${feed}/a.jsonl`;
  await lake.store.put(key, records.map((r) => JSON.stringify(r)).join('\n'));
  const registryKey = registry ? `_schemas/${feed}/registry-copy.json` : undefined;
  if (registryKey) await lake.store.put(registryKey, JSON.stringify({ columns: registry }));
  const result = await DuckDbEngine.use({}, (engine) =>
    runFlattenBatch(
      { feed, batchId: `${feed}-1`, objects: [{ key, size: 1 }], ...(registryKey ? { registryKey } : {}) },
      { store: lake.store, engine, ledger, options: { ...OPTIONS, ...options } }
    )
  );
  const manifest = await readBatchManifest(lake.store, result.manifestKey);
  const download = async (keys: readonly string[], name: string) => {
    const files: string[] = [];
    for (const [i, k] of keys.entries()) {
      const local = join(lake.dir, `${feed}-${name}-${i}.parquet`);
      await lake.store.download(k, local);
      files.push(quoteLiteral(local));
    }
    return `read_parquet([${files.join(', ')}])`;
  };
  const schema = JSON.parse(
    new TextDecoder().decode(await lake.store.get(result.schemaKey))
  ) as { columns: FlatColumn[] };
  return {
    result,
    columns: schema.columns,
    feed: await download(manifest.outputs, 'feed'),
    children: Object.fromEntries(
      await Promise.all(
        manifest.children.map(async (c) => [c.dataset, await download(c.outputs, c.dataset)])
      )
    ) as Record<string, string>,
  };
};

const rows = (sql: string) =>
  DuckDbEngine.use({}, async (engine) =>
    JSON.parse(
      JSON.stringify(await engine.all(sql), (_k, v) => (typeof v === 'bigint' ? Number(v) : v))
    ) as Record<string, unknown>[]
  );

describe('Function: runFlattenBatch (typed from inference)', () => {
  it('smoke', async () => {
    const out = await flattenRecords('smoke', [
      { DATE: '2024-05-03', MODE: 'web', a: { b: { c: { d: { e: 1 } } } }, t: '2019-05-15T15:19:25Z', l: [1, 2], o: [{ x: 1, y: [{ z: 'a' }] }] },
      { DATE: '2024-05-03', MODE: 'web', a: { b: { c: { d: { e: 2 } } } }, t: 1557933565, l: [], o: [] },
    ]);
    console.log(out.result, out.columns, out.children);
    console.log(await rows(`select * from ${out.feed}`));
    for (const c of Object.values(out.children)) console.log(await rows(`select * from ${c}`));
  });
});
