import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { listSourceFiles, planSourceFiles, uploadSourceFiles } from './sourceFiles.js';

let lake: LocalLake;
let source: string;

beforeAll(async () => {
  lake = await startLocalLake();
  source = await mkdtemp(join(tmpdir(), 'strata-source-'));
  await mkdir(join(source, '2024', 'jan'), { recursive: true });
  await mkdir(join(source, '.git'));
  await writeFile(join(source, '2024', 'jan', 'events.jsonl'), '{"id":1}\n{"id":2}\n');
  await writeFile(join(source, '2024', 'arr.json'), '[{"id":3}]');
  await writeFile(join(source, 'b c.json.gz'), 'not really gzip');
  await writeFile(join(source, 'notes.txt'), 'no JSON here');
  await writeFile(join(source, '.DS_Store'), 'x');
  await writeFile(join(source, '.git', 'config'), 'x');
});

afterAll(async () => {
  await lake?.stop();
  await rm(source, { recursive: true, force: true });
});

describe('Function: listSourceFiles', () => {
  it('lists a folder recursively in path order, leaving hidden files and folders out', async () => {
    // Act
    const files = await listSourceFiles(source);

    // Assess
    expect(files.map((file) => [file.relative, file.size])).toEqual([
      ['2024/arr.json', 10],
      ['2024/jan/events.jsonl', 18],
      ['b c.json.gz', 15],
      ['notes.txt', 12],
    ]);
  });

  it('takes the files an include matches and no exclude does', async () => {
    // Act
    const files = await listSourceFiles(source, {
      include: ['**/*.json', '**/*.jsonl', '*.gz'],
      exclude: ['2024/jan/**'],
    });

    // Assess
    expect(files.map((file) => file.relative)).toEqual(['2024/arr.json', 'b c.json.gz']);
  });

  it('takes a single file as the source', async () => {
    // Act
    const files = await listSourceFiles(join(source, '2024', 'arr.json'));

    // Assess
    expect(files.map((file) => file.relative)).toEqual(['arr.json']);
  });

  it('refuses a source that does not exist with Strata.BadInput', async () => {
    // Act
    const attempt = listSourceFiles(join(source, 'nowhere'));

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'Strata.BadInput',
      message: expect.stringContaining('does not exist'),
    });
  });
});

describe('Function: uploadSourceFiles', () => {
  it("uploads under the feed's backlog prefix, and a rerun sends nothing twice", async () => {
    // Prepare
    const files = await listSourceFiles(source, { exclude: ['*.txt'] });

    // Act
    const first = await uploadSourceFiles(lake, 'mine', files);
    const done = 'raw/mine/all_historical_files/2024/arr.json';
    await lake.ledger.claim(done, 'b-1', new Date(), 60_000);
    await lake.ledger.succeed(done, 'b-1', { rowsWritten: 1, rowsQuarantined: 0 }, new Date());
    await lake.store.delete([done]);
    const second = await uploadSourceFiles(lake, 'mine', files);

    // Assess
    expect(first).toEqual({ uploaded: 3, bytes: 43, present: 0, done: 0 });
    expect(second).toEqual({ uploaded: 0, bytes: 0, present: 2, done: 1 });
    const keys: string[] = [];
    for await (const object of lake.store.list('raw/mine/')) keys.push(object.key);
    expect(keys.sort()).toEqual([
      'raw/mine/all_historical_files/2024/jan/events.jsonl',
      'raw/mine/all_historical_files/b c.json.gz',
    ]);
  });
});

describe('Function: planSourceFiles', () => {
  it("plans as PlanBacklog would, at the feed's assumed rate when it has not run", async () => {
    // Prepare
    const files = await listSourceFiles(source);

    // Act
    const plan = await planSourceFiles(lake.store, 'unplanned', files);

    // Assess
    expect(plan).toMatchObject({ objects: 4, bytes: 55, batches: 1, measured: false });
    expect(plan.batchBytes).toBeGreaterThan(0);
  });
});
