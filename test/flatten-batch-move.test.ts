import { gzipSync } from 'node:zlib';
import { DynamoDbLedger } from '@strata/core/adapters';
import { DuckDbEngine } from '@strata/core/engine';
import { type FlattenBatchInput, FlattenLayout, runFlattenBatch } from '@strata/core/flatten';
import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder, snapshot } from './support/lake.js';
import { type LocalLake, startLocalLake } from './support/localLake.js';

let lake: LocalLake;
let dynamo: LocalDynamoDb;
let ledger: DynamoDbLedger;

const record = (id: number) => ({ id, DATE: `2024-03-0${1 + (id % 3)}`, MODE: 'web' });
/** Raw objects whose keys mean something else in a URL unless each character is encoded. */
const RAW: Record<string, Buffer> = {
  'raw/moves/a+b c=1%é.jsonl': Buffer.from(
    `${[1, 2, 3].map((id) => JSON.stringify(record(id))).join('\n')}\n`
  ),
  'raw/moves/データ/2024+01 ü.json.gz': gzipSync(JSON.stringify([record(4), record(5)])),
  'raw/moves/100%25?x=1&y=2#top.jsonl': Buffer.from(`${JSON.stringify(record(6))}\n`),
};
const BATCH: FlattenBatchInput = {
  feed: 'moves',
  batchId: 'moves-000000',
  objects: Object.entries(RAW).map(([key, body]) => ({ key, size: body.length })),
};

const flatten = () =>
  DuckDbEngine.use({}, (engine) =>
    runFlattenBatch(BATCH, {
      store: lake.store,
      engine,
      ledger,
      options: {
        separator: '_',
        maxDepth: 3,
        partition: { date: 'DATE', mode: 'MODE' },
        leaveInPlace: false,
      },
    })
  );

/** The raw objects as they should be in raw-processed/, by key. */
const processed = () =>
  Object.fromEntries(
    Object.entries(RAW).map(([key, body]) => [FlattenLayout.processed(key), new Uint8Array(body)])
  );

const readProcessed = async () => {
  const objects: Record<string, Uint8Array | undefined> = {};
  for (const key of await keysUnder(lake.store, 'raw-processed/moves/')) {
    objects[key] = await lake.store.get(key);
  }
  return objects;
};

beforeAll(async () => {
  lake = await startLocalLake();
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'ledger', key: 'object_key' }] });
  ledger = new DynamoDbLedger({ tableName: 'ledger', client: dynamo.client });
  for (const [key, body] of Object.entries(RAW)) await lake.store.put(key, body);
});

afterAll(async () => {
  await dynamo?.stop();
  await lake?.stop();
});

describe('Function: runFlattenBatch (moving raw objects to raw-processed/)', () => {
  it('moves every raw object to raw-processed/ byte for byte, whatever its key', async () => {
    // Act
    const result = await flatten();

    // Assess
    expect(result).toMatchObject({ objects: 3, rowsWritten: 6, recordsQuarantined: 0 });
    expect(await keysUnder(lake.store, 'raw/moves/')).toEqual([]);
    expect(await readProcessed()).toEqual(processed());
  });

  it('retries a batch whose objects were moved already, leaving raw-processed/ as it was', async () => {
    // Prepare
    const silver = await snapshot(lake.store, 'silver/moves/');

    // Act: the sources are gone from raw/, so the retry reads raw-processed/ and copies nothing
    const result = await flatten();

    // Assess
    expect(result).toMatchObject({ objects: 3, rowsWritten: 6 });
    expect(await snapshot(lake.store, 'silver/moves/')).toEqual(silver);
    expect(await readProcessed()).toEqual(processed());
  });

  it('ends with one copy in raw-processed/ when a retry follows a crash between copy and delete', async () => {
    // Prepare: the crashed attempt copied every object but deleted none
    for (const [key, body] of Object.entries(RAW)) await lake.store.put(key, body);

    // Act
    const result = await flatten();

    // Assess
    expect(result).toMatchObject({ objects: 3, rowsWritten: 6 });
    expect(await keysUnder(lake.store, 'raw/moves/')).toEqual([]);
    expect(await readProcessed()).toEqual(processed());
  });
});
