import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine, Workspace } from '../engine/index.js';
import { readBatchManifest } from './batchManifest.js';
import { copySilver } from './partitionColumns.js';
import { runFlattenBatch } from './runFlattenBatch.js';
import type { FlattenBatchOptions, PartitionFields } from './types.js';

let lake: LocalLake;

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

/**
 * Flattens records of a feed of their own and returns, for each record's `id`, the folder (below
 * the feed's silver prefix) its row was written in.
 */
const foldersById = async (
  feed: string,
  records: readonly object[],
  partition: PartitionFields,
  infer: FlattenBatchOptions['infer']
): Promise<Record<number, string>> => {
  const key = `raw/${feed}/a.jsonl`;
  await lake.store.put(key, records.map((record) => JSON.stringify(record)).join('\n'));
  const options: FlattenBatchOptions = {
    separator: '_',
    maxDepth: 3,
    partition,
    leaveInPlace: true,
    infer,
  };
  const result = await DuckDbEngine.use({}, (engine) =>
    runFlattenBatch(
      { feed, batchId: `${feed}-1`, objects: [{ key, size: 1 }] },
      { store: lake.store, engine, ledger: lake.ledger, options }
    )
  );
  expect(result.rowsWritten).toBe(records.length);
  const { outputs } = await readBatchManifest(lake.store, result.manifestKey);
  const folders: Record<number, string> = {};
  for (const [i, output] of outputs.entries()) {
    const local = join(lake.dir, `${feed}-${i}.parquet`);
    await lake.store.download(output, local);
    const ids = await DuckDbEngine.use({}, (engine) =>
      engine.all(`select id::int as id from read_parquet(${quoteLiteral(local)})`)
    );
    const folder = output.slice(`silver/${feed}/`.length, output.lastIndexOf('/') + 1);
    for (const { id } of ids) folders[Number(id)] = folder;
  }
  return folders;
};

const NULL = '__HIVE_DEFAULT_PARTITION__';

describe('Function: partitionValues (through runFlattenBatch)', () => {
  // `never`: the batch is planned from its sample and read as text; `always`: typed from DuckDB's
  // inference, where a field of mixed kinds is JSON and one of one kind is native.
  for (const infer of ['never', 'always'] as const) {
    it(`partitions by a nested date of any form and a nested mode (infer: ${infer})`, async () => {
      // Act
      const folders = await foldersById(
        `nested_${infer}`,
        [
          { id: 1, meta: { at: '2024-05-03T23:30:00-05:00', kind: 'web' } },
          { id: 2, meta: { at: 1714780800, kind: 'ios' } },
          { id: 3, meta: { at: 1714867200000, kind: 'ios' } },
          { id: 4, meta: { kind: 'web' } },
          { id: 5, meta: { at: 'not a date', kind: { nested: true } } },
          { id: 6 },
        ],
        { date: 'meta.at', mode: 'meta.kind' },
        infer
      );

      // Assess
      expect(folders).toEqual({
        // The date as written, whatever its offset.
        1: 'year=2024/month=05/day=03/mode=web/',
        // Epoch seconds, then milliseconds.
        2: 'year=2024/month=05/day=04/mode=ios/',
        3: 'year=2024/month=05/day=05/mode=ios/',
        4: `year=${NULL}/month=${NULL}/day=${NULL}/mode=web/`,
        // No date in the text, and an object is no mode.
        5: `year=${NULL}/month=${NULL}/day=${NULL}/mode=${NULL}/`,
        6: `year=${NULL}/month=${NULL}/day=${NULL}/mode=${NULL}/`,
      });
    });
  }

  it('reads a date in the feed’s declared format, and partitions by the date alone', async () => {
    // Act
    const folders = await foldersById(
      'formatted',
      [
        { id: 1, created: '03/05/2024' },
        { id: 2, created: '2024-05-03' },
      ],
      { date: 'created', dateFormat: '%d/%m/%Y' },
      'never'
    );

    // Assess
    expect(folders).toEqual({
      1: 'year=2024/month=05/day=03/',
      2: `year=${NULL}/month=${NULL}/day=${NULL}/`,
    });
  });

  for (const infer of ['never', 'always'] as const) {
    it(`writes an unpartitioned feed as one file in its folder (infer: ${infer})`, async () => {
      // Act
      const folders = await foldersById(
        `flat_${infer}`,
        [
          { id: 1, DATE: '2024-05-03', MODE: 'web' },
          { id: 2, DATE: '2024-05-04', MODE: 'ios' },
        ],
        {},
        infer
      );

      // Assess
      expect(folders).toEqual({ 1: '', 2: '' });
    });
  }

  for (const infer of ['never', 'always'] as const) {
    it(`writes a batch whose rows are all in one partition in that partition's folder (infer: ${infer})`, async () => {
      // Act
      const folders = await foldersById(
        `one_${infer}`,
        [
          { id: 1, DATE: '2024-05-03', MODE: 'web-app_2' },
          { id: 2, DATE: '2024-05-03T10:00:00Z', MODE: 'web-app_2' },
        ],
        { date: 'DATE', mode: 'MODE' },
        infer
      );
      const missing = await foldersById(
        `one_missing_${infer}`,
        [{ id: 1 }, { id: 2 }],
        { date: 'DATE', mode: 'MODE' },
        infer
      );

      // Assess
      expect(folders).toEqual({
        1: 'year=2024/month=05/day=03/mode=web-app_2/',
        2: 'year=2024/month=05/day=03/mode=web-app_2/',
      });
      const none = `year=${NULL}/month=${NULL}/day=${NULL}/mode=${NULL}/`;
      expect(missing).toEqual({ 1: none, 2: none });
    });
  }
});

describe('Function: copySilver', () => {
  it('writes wide rows of one partition to its folder within memory a partitioned write does not fit in', async () => {
    // Prepare: 500 text columns × 5,000 rows in one partition; DuckDB's partitioned write
    // buffers them once more before its writer and needs more than 88 MB
    const columns = Array.from({ length: 500 }, (_, c) => `'v' || (i % 97 + ${c}) as c${c}`);
    const query = `select ${columns.join(', ')}, '2024' as year, 'web' as mode from range(5000) t(i)`;

    // Act
    const written = await Workspace.use('copy-silver-test', (ws) =>
      DuckDbEngine.use({ threads: 1, memoryLimit: '88MB' }, async (engine) => {
        await copySilver(engine, query, {
          dir: ws.path('silver'),
          batchId: 'b-1',
          keys: ['year', 'mode'],
          partition: { year: '2024', mode: 'web' },
          options: ', dictionary_size_limit 1, string_dictionary_page_size_limit 1',
        });
        const file = ws.path('silver/year=2024/mode=web/part-b-1-0.parquet');
        const [row] = await engine.all(
          `select count(*)::int as n, (select count(*)::int from (describe select * from read_parquet(${quoteLiteral(file)}, hive_partitioning = false))) as columns from read_parquet(${quoteLiteral(file)})`
        );
        return row;
      })
    );

    // Assess: every row, its columns without the partition's, as a partitioned write leaves them
    expect(written).toEqual({ n: 5000, columns: 500 });
  });
});
