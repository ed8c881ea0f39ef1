import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import type { DynamoDbLedger } from '../adapters/index.js';
import { DuckDbEngine } from '../engine/index.js';
import type { Ledger, ObjectStore } from '../ports/index.js';
import { readBatchManifest } from './batchManifest.js';
import { CLAIM_LEASE_MS, MAX_ATTEMPTS } from './constants.js';
import { FlattenLayout } from './flattenLayout.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchInput, FlattenBatchOptions } from './types.js';

let lake: LocalLake;
let ledger: DynamoDbLedger;

const OPTIONS: FlattenBatchOptions = {
  separator: '_',
  maxDepth: 3,
  partition: { date: 'DATE', mode: 'MODE' },
  leaveInPlace: false,
};

/** Objects of `feed` whose records land in three day partitions, so a batch writes three parts. */
const putObjects = async (feed: string, count: number) => {
  const objects: FlattenBatchInput['objects'] = [];
  for (let n = 0; n < count; n++) {
    const key = `raw/${feed}/all_historical_files/f-${n}.jsonl`;
    const lines = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ id: n * 100 + i, DATE: `2024-03-0${1 + (i % 3)}`, MODE: 'web', n })
    );
    const body = `${lines.join('\n')}\n`;
    await lake.store.put(key, body);
    objects.push({ key, size: Buffer.byteLength(body) });
  }
  return objects;
};

/**
 * The lake and ledger as a process sees them until it is killed: after `dies` says so, every
 * call fails, so nothing the process would still do (clear up, mark FAILED) reaches either.
 */
const killedAfter = (dies: (method: string, key: string) => boolean) => {
  let dead = false;
  const guard =
    <A extends unknown[], R>(method: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (dead) throw new Error('killed');
      const out = await call(...args);
      if (dies(method, String(args[0]))) dead = true;
      return out;
    };
  const store: ObjectStore = {
    get: guard('get', (key) => lake.store.get(key)),
    getTagged: guard('getTagged', (key) => lake.store.getTagged(key)),
    put: guard('put', (key, body, type) => lake.store.put(key, body, type)),
    putIfMatch: guard('putIfMatch', (key, body, etag, type) =>
      lake.store.putIfMatch(key, body, etag, type)
    ),
    download: guard('download', (key, path, range) => lake.store.download(key, path, range)),
    upload: guard('upload', (key, path, type) => lake.store.upload(key, path, type)),
    copy: guard('copy', (from, to, size) => lake.store.copy(from, to, size)),
    list: (prefix) => lake.store.list(prefix),
    delete: guard('delete', (keys) => lake.store.delete(keys)),
  };
  const dyingLedger: Ledger = {
    getMany: guard('getMany', (keys) => ledger.getMany(keys)),
    claim: guard('claim', (key, batch, now, lease) => ledger.claim(key, batch, now, lease)),
    succeed: guard('succeed', (key, batch, counts, now) => ledger.succeed(key, batch, counts, now)),
    fail: guard('fail', (key, batch, error, now) => ledger.fail(key, batch, error, now)),
    expireLeases: guard('expireLeases', (now) => ledger.expireLeases(now)),
  };
  return { store, ledger: dyingLedger };
};

const flatten = (
  input: FlattenBatchInput,
  deps: { store?: ObjectStore; ledger?: Ledger; now?: () => Date } = {}
) =>
  DuckDbEngine.use({}, (engine) =>
    runFlattenBatch(input, {
      store: deps.store ?? lake.store,
      ledger: deps.ledger ?? ledger,
      engine,
      options: OPTIONS,
      ...(deps.now ? { now: deps.now } : {}),
    })
  );

/** A clock past every lease taken now. */
const afterLeases = () => new Date(Date.now() + CLAIM_LEASE_MS + 60_000);

const silverParts = async (feed: string) =>
  (await keysUnder(lake.store, `silver/${feed}/`)).filter((key) => key.endsWith('.parquet'));

beforeAll(async () => {
  lake = await startLocalLake();
  ledger = lake.ledger;
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: runFlattenBatch (after a batch died)', () => {
  it('removes the Parquet parts a batch killed before its commit uploaded, and writes each row once', async () => {
    // Prepare: the batch dies once its first Parquet part reached the lake (others in flight land)
    const objects = await putObjects('died', 3);
    const dying = killedAfter((method) => method === 'upload');
    const killed = flatten({ feed: 'died', batchId: 'run-1-died-000000', objects }, dying);
    await expect(killed).rejects.toThrow('killed');
    const left = await silverParts('died');

    // Act: a later run's batch, once the dead batch's leases lapsed
    const rerun = await flatten(
      { feed: 'died', batchId: 'run-2-died-000000', objects },
      { now: afterLeases }
    );

    // Assess
    expect(left.length).toBeGreaterThan(0);
    expect(rerun).toMatchObject({ objects: 3, rowsWritten: 90, adopted: [] });
    const parts = await silverParts('died');
    expect(parts).toEqual(
      [...(await readBatchManifest(lake.store, rerun.manifestKey)).outputs].sort()
    );
    expect(parts.every((key) => key.includes('part-run-2-died-000000-'))).toBe(true);
    expect(await lake.store.get(FlattenLayout.batchIntent('died', 'run-1-died-000000'))).toBe(
      undefined
    );
    const entries = await ledger.getMany(objects.map((object) => object.key));
    expect([...entries.values()].map((entry) => [entry.status, entry.attempts])).toEqual([
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 2],
    ]);
  });

  it('finishes a batch killed after its commit instead of writing its rows again', async () => {
    // Prepare: the batch dies once its manifest, the commit, is written
    const objects = await putObjects('committed', 2);
    const dying = killedAfter(
      (method, key) => method === 'put' && key.endsWith('batches/run-1-committed-000000.json')
    );
    const killed = flatten(
      { feed: 'committed', batchId: 'run-1-committed-000000', objects },
      dying
    );
    await expect(killed).rejects.toThrow('killed');
    const written = await silverParts('committed');

    // Act
    const rerun = await flatten(
      { feed: 'committed', batchId: 'run-2-committed-000000', objects },
      { now: afterLeases }
    );

    // Assess
    expect(rerun).toMatchObject({
      objects: 0,
      skipped: 2,
      rowsWritten: 0,
      adopted: ['run-1-committed-000000'],
    });
    expect(await silverParts('committed')).toEqual(written);
    expect(written.length).toBeGreaterThan(0);
    const entries = await ledger.getMany(objects.map((object) => object.key));
    expect([...entries.values()].map((entry) => [entry.status, entry.rowsWritten])).toEqual([
      ['SUCCEEDED', 30],
      ['SUCCEEDED', 30],
    ]);
    expect(await keysUnder(lake.store, 'raw/committed/')).toEqual([]);
  });

  it('leaves a batch whose lease is live alone', async () => {
    // Prepare
    const objects = await putObjects('live', 1);
    const dying = killedAfter((method) => method === 'upload');
    await expect(
      flatten({ feed: 'live', batchId: 'run-1-live-000000', objects }, dying)
    ).rejects.toThrow('killed');
    const left = await silverParts('live');

    // Act
    const rival = await flatten({ feed: 'live', batchId: 'run-2-live-000000', objects });

    // Assess
    expect(rival).toMatchObject({ objects: 0, skipped: 1 });
    expect(await silverParts('live')).toEqual(left);
  });
});

describe('Function: runFlattenBatch (a batch that fails)', () => {
  it('removes what it uploaded and marks its objects FAILED with the error, for the next run to retry', async () => {
    // Prepare: S3 refuses the second upload
    const objects = await putObjects('failing', 2);
    let uploads = 0;
    const refusing: ObjectStore = {
      ...lake.store,
      get: (key) => lake.store.get(key),
      getTagged: (key) => lake.store.getTagged(key),
      put: (key, body, type) => lake.store.put(key, body, type),
      putIfMatch: (key, body, etag, type) => lake.store.putIfMatch(key, body, etag, type),
      download: (key, path, range) => lake.store.download(key, path, range),
      copy: (from, to, size) => lake.store.copy(from, to, size),
      list: (prefix) => lake.store.list(prefix),
      delete: (keys) => lake.store.delete(keys),
      upload: async (key, path, type) => {
        if (++uploads === 2)
          throw Object.assign(new Error('slow down'), { name: 'Strata.Transient' });
        return lake.store.upload(key, path, type);
      },
    };

    // Act
    const failed = flatten(
      { feed: 'failing', batchId: 'run-1-failing-000000', objects },
      {
        store: refusing,
      }
    );
    await expect(failed).rejects.toThrow('slow down');
    const entries = await ledger.getMany(objects.map((object) => object.key));
    const left = await silverParts('failing');
    const retried = await flatten({ feed: 'failing', batchId: 'run-2-failing-000000', objects });

    // Assess
    expect([...entries.values()].map((entry) => [entry.status, entry.error])).toEqual([
      ['FAILED', 'Strata.Transient: slow down'],
      ['FAILED', 'Strata.Transient: slow down'],
    ]);
    expect(left).toEqual([]);
    expect(retried).toMatchObject({ objects: 2, rowsWritten: 60 });
    const { outputs } = await readBatchManifest(lake.store, retried.manifestKey);
    expect(await silverParts('failing')).toEqual([...outputs].sort());
  });

  it('quarantines an object whole with its last error once it has used up its attempts', async () => {
    // Prepare: every earlier batch failed on the object
    const [object] = await putObjects('poison', 1);
    if (!object) throw new Error('no object');
    for (let n = 0; n < MAX_ATTEMPTS; n++) {
      await ledger.claim(object.key, `run-${n}-poison-000000`, new Date(), CLAIM_LEASE_MS);
      await ledger.fail(
        object.key,
        `run-${n}-poison-000000`,
        `Error: out of memory ${n}`,
        new Date()
      );
    }

    // Act
    const result = await flatten({
      feed: 'poison',
      batchId: 'run-9-poison-000000',
      objects: [object],
    });

    // Assess
    expect(result).toMatchObject({ objects: 1, rowsWritten: 0, recordsQuarantined: 1 });
    const quarantined = FlattenLayout.quarantineFile('poison', 'run-9-poison-000000', object.key);
    const sidecar = JSON.parse(
      new TextDecoder().decode(await lake.store.get(`${quarantined}.error.json`))
    ) as { error: string };
    expect(sidecar.error).toBe(
      `given up after ${MAX_ATTEMPTS} attempts; the last: Error: out of memory ${MAX_ATTEMPTS - 1}`
    );
    expect(await lake.store.get(quarantined)).toBeDefined();
    expect((await ledger.getMany([object.key])).get(object.key)?.status).toBe('SUCCEEDED');
  });

  it("quarantines an object the plan found too large for a batch, unread, with the plan's reason", async () => {
    // Prepare
    const [object] = await putObjects('huge', 1);
    if (!object) throw new Error('no object');
    const tooLarge = 'too large for one batch: 9 GiB at 1 MiB/s takes about 9216 s';

    // Act
    const result = await flatten({
      feed: 'huge',
      batchId: 'run-1-huge-000000',
      objects: [{ ...object, tooLarge }],
    });

    // Assess
    expect(result).toMatchObject({ objects: 1, rowsWritten: 0, recordsQuarantined: 1 });
    const quarantined = FlattenLayout.quarantineFile('huge', 'run-1-huge-000000', object.key);
    const sidecar = JSON.parse(
      new TextDecoder().decode(await lake.store.get(`${quarantined}.error.json`))
    ) as { error: string };
    expect(sidecar.error).toBe(tooLarge);
    expect(await keysUnder(lake.store, 'raw/huge/')).toEqual([]);
  });
});
