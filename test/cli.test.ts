import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { S3ObjectStore } from '@strata/core/adapters';
import { DuckDbEngine } from '@strata/core/engine';
import { FlattenLayout } from '@strata/core/flatten';
import { EmbeddedRuntime, LEDGER_TABLE } from '@strata/local/runtime';
import { LOCAL_S3_CREDENTIALS, LocalS3 } from '@strata/local/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silverHashes } from './support/silverHash.js';

const CLI = fileURLToPath(new URL('../packages/local/src/cli.ts', import.meta.url));

let dir: string;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `strata` CLI as `npm start` does, in its own process. */
const strata = (
  args: string[],
  onStdout?: (text: string, child: ChildProcess) => void,
  env: Record<string, string> = {}
) =>
  new Promise<Finished>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: {
        ...process.env,
        NODE_OPTIONS: '--openssl-legacy-provider',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const FEEDS = ['clickstream', 'payments', 'devices'];

/** Numbers as the CLI prints them (`1,234`), or the cell as it is when it is not one. */
const cellValue = (cell: string) => {
  const n = Number(cell.replaceAll(',', ''));
  return Number.isNaN(n) ? cell : n;
};

/** A feed's line of the backfill table: batches, read, written, quarantined, silver, check. */
const backfillRow = (stdout: string, feed: string) => {
  const line = stdout.split('\n').find((text) => text.startsWith(`${feed} `)) ?? '';
  const [, batches, read, written, quarantined, silver, check] = line.split(/\s{2,}/);
  return { batches, read, written, quarantined, silver, check } as Record<string, string>;
};

/** The summary table's quarantine lines of a feed, by reason. */
const quarantineRows = (stdout: string, feed: string) =>
  Object.fromEntries(
    stdout
      .split('\n')
      .filter((line) => line.startsWith(`quarantine  ${feed} (`))
      .map((line) => {
        const [, dataset, rows] = line.split(/\s{2,}/);
        return [/\((.*)\)$/.exec(dataset ?? '')?.[1], cellValue(rows ?? '')];
      })
  );

/** Queries the embedded warehouse a CLI run left in `lakeDir` (no run holds it open). */
const warehouse = (lakeDir: string, sql: string) =>
  DuckDbEngine.use({ path: join(lakeDir, 'warehouse.duckdb') }, (engine) => engine.all(sql));

/** Opens the lake a CLI run left in `lakeDir`, as the CLI does, and hands it to `work`. */
const withLake = async (lakeDir: string, work: (runtime: EmbeddedRuntime) => Promise<void>) => {
  const runtime = await EmbeddedRuntime.start({ dir: lakeDir, scale: 0.002 });
  try {
    await work(runtime);
  } finally {
    await runtime.stop();
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-cli-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('strata start', () => {
  describe('on a new directory', () => {
    let run: Finished;

    beforeAll(async () => {
      run = await strata([
        'start',
        '--dir',
        join(dir, 'ok'),
        '--scale',
        '0.002',
        '--size',
        '256KB',
      ]);
    });

    it('backfills a generated backlog first and prints each feed reconciled against the lake', () => {
      // Assess
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/backlog: generated \d+ raw objects/);
      expect(run.stdout.indexOf('▶ backfill clickstream')).toBeGreaterThan(0);
      expect(run.stdout.indexOf('▶ backfill devices')).toBeLessThan(
        run.stdout.indexOf('▶ pipeline')
      );
      expect(run.stdout).toContain('Backfill SUCCEEDED — 3 feed(s)');
      for (const feed of FEEDS) {
        const row = backfillRow(run.stdout, feed);
        const [read, written, quarantined, silver] = [
          row.read,
          row.written,
          row.quarantined,
          row.silver,
        ].map((cell) => cellValue(cell ?? '')) as number[];
        expect(written, feed).toBeGreaterThan(0);
        expect(read, feed).toBe((written ?? 0) + (quarantined ?? 0));
        expect(silver, feed).toBe(written);
        expect(row.check, feed).toBe('✓');
        const reasons = quarantineRows(run.stdout, feed);
        expect(reasons['unreadable file: gzip: unexpected end of file'], feed).toBe(1);
        expect(
          Object.values(reasons).reduce((sum: number, n) => sum + Number(n), 0),
          feed
        ).toBe(quarantined);
      }
    });

    it('runs the pipeline and prints non-zero rows for every layer, read from the lake', () => {
      // Assess
      expect(run.stdout).toContain('Pipeline SUCCEEDED');
      for (const layer of ['bronze', 'silver', 'gold', 'features']) {
        const rows = run.stdout
          .split('\n')
          .filter((line) => line.startsWith(`${layer} `))
          .map((line) => Number(line.split(/\s{2,}/)[2]?.replaceAll(',', '')));
        expect(rows.length, layer).toBeGreaterThan(0);
        expect(
          rows.every((count) => count > 0),
          layer
        ).toBe(true);
      }
      expect(run.stdout).toMatch(/^silver +clickstream \(backfill, this run\) +[1-9]/m);
      // config/strata.json explodes clickstream's payload.items into a child table.
      expect(run.stdout).toMatch(
        /^silver +clickstream__payload_items \(backfill, this run: one row per array element\) +[1-9]/m
      );
    });

    it("prints a customer's record from the online feature store, and exits 1 for one it lacks", async () => {
      // Act
      const found = await strata(['features', 'get', '1', '--dir', join(dir, 'ok')]);
      const missing = await strata(['features', 'get', 'nobody', '--dir', join(dir, 'ok')]);

      // Assess
      expect(found.code).toBe(0);
      // Typed as the feature group declares them: Integral and Fractional as numbers
      expect(JSON.parse(found.stdout)).toMatchObject({
        customer_id: 1,
        order_count: expect.any(Number),
        total_spent: expect.any(Number),
        nation: expect.any(String),
        event_time: expect.any(String),
      });
      expect(missing).toMatchObject({ code: 1, stderr: 'no record nobody in the online store\n' });
    });
  });

  describe('on the directory of an earlier run', () => {
    it('sends the feature store only the customers the simulated day changed, and deletes the one it deleted', async () => {
      // Prepare: the orders the first run saw
      const lakeDir = join(dir, 'ok');
      const [seen] = await warehouse(lakeDir, 'select max(O_ORDERKEY) as k from tpch_sf1.orders');

      // Act
      const run = await strata(['start', '--dir', lakeDir, '--scale', '0.002']);

      // Assess: the day's orders' customers and the new customer, no one else
      expect(run.code, run.stderr).toBe(0);
      const deletedId =
        /^warehouse moved on a day \(simulated day 1,.*customer (\d+) deleted$/m.exec(
          run.stdout
        )?.[1];
      expect(deletedId).toBeDefined();
      const changed = await warehouse(
        lakeDir,
        `select distinct O_CUSTKEY as id from tpch_sf1.orders where O_ORDERKEY > ${seen?.k}
         union select max(C_CUSTKEY) from tpch_sf1.customer order by id`
      );
      const [customers] = await warehouse(lakeDir, 'select count(*) as n from tpch_sf1.customer');
      const finish =
        /FinishFeatureIngest +([\d,]+) records to (\S+) \(0 retried, 0 failed\), ([\d,]+) deleted, ([\d,]+) unchanged/.exec(
          run.stdout
        );
      const [sent, group, deleted, unchanged] = finish?.slice(1) ?? [];
      expect(cellValue(sent ?? '')).toBe(changed.length);
      expect(deleted).toBe('1');
      expect(cellValue(unchanged ?? '')).toBe(Number(customers?.n) - changed.length);
      // The summary counts the run's offline-store rows from the lake: one per record sent, and
      // the deleted customer's marker.
      expect(run.stdout).toMatch(
        new RegExp(`^features +${group} +${changed.length + 1} +s3://`, 'm')
      );
      const get = (id: unknown) => strata(['features', 'get', String(id), '--dir', lakeDir]);
      const record = async (id: unknown) => JSON.parse((await get(id)).stdout);
      const ids = changed.map((row) => Number(row.id));
      const newest = await record(ids.at(-1));
      const untouched = await record([1, 2, 3, 4, 5].find((id) => !ids.includes(id)));
      expect(newest).toMatchObject({
        customer_id: ids.at(-1),
        order_count: expect.any(Number),
        total_spent: expect.any(Number),
        market_segment: expect.any(String),
      });
      expect(Number.isInteger(newest.order_count)).toBe(true);
      expect(Date.parse(newest.event_time)).toBeGreaterThan(Date.parse(untouched.event_time));
      expect(await get(deletedId)).toMatchObject({ code: 1 });
    });

    it('refuses a --size other than that of the backlog it holds, and leaves the warehouse as it was', async () => {
      // Prepare
      const simulatedDays = () =>
        DuckDbEngine.use({ path: join(dir, 'ok', 'warehouse.duckdb') }, async (engine) =>
          Number((await engine.all('select count(*) as n from strata_simulation.days'))[0]?.n)
        );
      const before = await simulatedDays();

      // Act
      const run = await strata([
        'start',
        '--dir',
        join(dir, 'ok'),
        '--scale',
        '0.002',
        '--size',
        '1MB',
      ]);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--size 1\.0 MB: .* already holds the 256 KB backlog .*--fresh/);
      expect(await simulatedDays()).toBe(before);
    });

    it('reuses the backlog, counts only this run, and exits 1 naming a feed that failed', async () => {
      // Prepare: a schema registry that no longer parses fails that feed's PlanBacklog.
      await withLake(join(dir, 'ok'), (runtime) =>
        runtime.store.put(FlattenLayout.schema('payments'), 'not json')
      );

      // Act
      const run = await strata(['start', '--dir', join(dir, 'ok'), '--scale', '0.002']);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('backlog: reusing the 256 KB backlog');
      expect(run.stderr).toMatch(
        /^Backfill FAILED for payments: the execution failed with Strata\.BadInput: .*schema registry .* is not valid JSON/m
      );
      expect(run.stdout).toContain('Backfill FAILED — 3 feed(s)');
      expect(backfillRow(run.stdout, 'payments').check).toBe('FAILED');
      for (const feed of ['clickstream', 'devices']) {
        expect(backfillRow(run.stdout, feed), feed).toEqual({
          batches: '0',
          read: '0',
          written: '0',
          quarantined: '0',
          silver: '0',
          check: '✓',
        });
      }
      expect(run.stdout).toContain('Pipeline SUCCEEDED');
    });
  });

  it('exits 1 with the failure reason and where the dead letter went', async () => {
    // Act
    const run = await strata([
      'start',
      '--dir',
      join(dir, 'bad'),
      '--entities',
      'nope',
      '--no-backfill',
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'Pipeline FAILED with Strata.BadInput: execution input: entities: unknown "nope"'
    );
    expect(run.stderr).toContain(join(dir, 'bad', 'dead-letter-queue.jsonl'));
    expect(run.stdout).not.toContain('▶ backfill');
  });

  it('stops local S3 and exits 130 on Ctrl-C', async () => {
    // Prepare
    let endpoint = '';

    // Act
    const run = await strata(['start', '--dir', join(dir, 'interrupted')], (stdout, child) => {
      const match = /local S3 at (http:\/\/\S+),/.exec(stdout);
      if (match && !endpoint) {
        endpoint = match[1] ?? '';
        child.kill('SIGINT');
      }
    });

    // Assess
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('SIGINT: stopping local S3');
    await expect(fetch(endpoint)).rejects.toThrow();
  });
});

describe('strata backfill', () => {
  it('runs only the backfill and prints its reconciliation', async () => {
    // Act
    const run = await strata(['backfill', '--dir', join(dir, 'backfill'), '--size', '256KB']);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Backfill SUCCEEDED — 3 feed(s)');
    expect(run.stdout).not.toContain('▶ pipeline');
    for (const feed of FEEDS) expect(backfillRow(run.stdout, feed).check, feed).toBe('✓');
  });

  it('backfills a folder of your own JSON into a feed, which query then counts', async () => {
    // Prepare: a user's folder: JSON Lines, a JSON array, a nested folder, a file to leave out
    const lake = join(dir, 'own');
    const source = join(dir, 'own-json');
    await mkdir(join(source, '2024'), { recursive: true });
    await writeFile(
      join(source, '2024', 'events.jsonl'),
      ['{"id":1,"user":{"name":"a"}}', '{"id":2,"user":{"name":"b"}}', '{"id":', '{"id":3}'].join(
        '\n'
      )
    );
    await writeFile(join(source, 'more.json'), '[{"id":4,"tags":["x"]},{"id":5}]');
    await writeFile(join(source, 'README.txt'), 'not data');

    const backfill = ['backfill', '--feed', 'mine', '--from', source, '--exclude', '*.txt'];

    // Act
    const run = await strata([...backfill, '--dir', lake]);
    const counted = await strata([
      'query',
      'select count(*) as n, count(distinct _source_key) as files from silver.mine',
      '--format',
      'json',
      '--dir',
      lake,
    ]);
    const status = await strata(['status', '--dir', lake]);
    const again = await strata([...backfill, '--dir', lake]);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('mine: 2 file(s) under');
    expect(backfillRow(run.stdout, 'mine')).toMatchObject({
      read: '6',
      written: '5',
      quarantined: '1',
      check: '✓',
    });
    expect(counted.code).toBe(0);
    expect(JSON.parse(counted.stdout)).toEqual([{ n: '5', files: '2' }]);
    // waiting, processing, succeeded, failed objects, records quarantined; then the run: read,
    // written, quarantined, failed batches
    expect(status.stdout).toMatch(/^mine +0 +0 +2 +0 +1$/m);
    expect(status.stdout).toMatch(/^mine +backfill-mine-\S+ +6 +5 +1 +0$/m);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      '0 uploaded (0 KB) to raw/mine/all_historical_files/, 0 already there, 2 backfilled before'
    );
  });

  it('backfills the objects under an s3:// prefix, read in place with the default credential chain', async () => {
    // Prepare: a user's bucket on an S3 of its own, which the SDK reaches through the
    // environment as it would reach AWS's
    const bucketDir = join(dir, 'user-s3');
    const s3 = await LocalS3.start({ directory: bucketDir, buckets: ['user-data'] });
    const client = s3.client();
    const user = new S3ObjectStore({ bucket: 'user-data', client });
    await user.put('exports/2024/events.jsonl', '{"id":1,"user":{"name":"a"}}\n{"id":2}\n');
    await user.put('exports/more.json', '[{"id":3},{"id":4}]');
    await user.put('exports/empty/', '');
    const env = {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'eu-west-1',
    };
    const lake = join(dir, 'from-s3');
    const backfill = ['backfill', '--feed', 'mine', '--from', 's3://user-data/exports/'];

    try {
      // Act
      const dry = await strata([...backfill, '--dry-run', '--dir', lake], undefined, env);
      const run = await strata([...backfill, '--dir', lake], undefined, env);
      const nothing = await strata(
        ['backfill', '--feed', 'mine', '--from', 's3://user-data/none/', '--dir', lake],
        undefined,
        env
      );
      const counted = await strata(
        ['query', 'select count(*) as n from silver.mine', '--format', 'csv', '--dir', lake],
        undefined,
        env
      );
      const report = await strata(['report', 'latest', '--dir', lake]);

      // Assess
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/dry run: 2 file\(s\), \d+ KB from s3:\/\/user-data\/exports\//);
      expect(dry.stdout).toMatch(
        /estimated cost on AWS: \$\d+\.\d{4} \(about \d+ s per batch at the benchmark's rate\), at most \$\d+\.\d{4}/
      );
      expect(dry.stdout).toContain('assumes us-east-1 list prices');
      expect(dry.stdout).toContain('Lambda on arm64');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('mine: 2 file(s) under s3://user-data/exports/: 2 copied');
      expect(backfillRow(run.stdout, 'mine')).toMatchObject({ read: '4', written: '4' });
      expect(nothing.code).toBe(1);
      expect(nothing.stderr).toContain('no files under s3://user-data/none/');
      expect(counted.stdout.trim()).toBe('n\n4');
      expect(report.code).toBe(0);
      const page = /report of mine run backfill-mine-\S+: (file:\S+)/.exec(report.stdout)?.[1];
      expect(existsSync(fileURLToPath(page ?? 'file:///nowhere'))).toBe(true);
      const left: string[] = [];
      for await (const object of user.list('')) left.push(object.key);
      expect(left.sort()).toEqual([
        'exports/2024/events.jsonl',
        'exports/empty/',
        'exports/more.json',
      ]);
    } finally {
      client.destroy();
      await s3.stop();
    }
  });

  it('warns and exits 1 when --from holds no file to take', async () => {
    // Prepare
    const empty = join(dir, 'nothing');
    await mkdir(empty, { recursive: true });

    // Act
    const run = await strata([
      'backfill',
      '--feed',
      'mine',
      '--from',
      empty,
      '--dir',
      join(dir, 'own'),
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no files under ${empty}: nothing to backfill into mine`);
  });

  it('finishes the job exactly once after kill -9, in a plain rerun without --fresh', async () => {
    // Prepare: a clean run to compare with, and a run killed while it flattens payments
    const clean = join(dir, 'clean');
    await strata(['backfill', '--dir', clean, '--size', '256KB']);
    const killed = join(dir, 'killed');
    const batches = join(killed, 's3', 'strata-lake', '_backfill', 'payments', 'batches');
    let watching: NodeJS.Timeout | undefined;
    const first = await strata(['backfill', '--dir', killed, '--size', '256KB'], (out, child) => {
      // Killed once a payments batch has claimed its objects and is about to upload its parts.
      if (watching || !out.includes('▶ backfill payments')) return;
      watching = setInterval(() => {
        const names = existsSync(batches) ? readdirSync(batches) : [];
        // s3rver writes an object in place, then its metadata: killed before that, it leaves a
        // truncated object, which S3's atomic PUT never shows. Wait until the intent is whole.
        if (!names.some((name) => name.endsWith('.intent.json._S3rver_metadata.json'))) return;
        clearInterval(watching);
        child.kill('SIGKILL');
      }, 1);
    });

    // Act
    const rerun = await strata(['backfill', '--dir', killed]);

    // Assess
    expect(first.code).toBe(null);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(
      /pid \d+\) ended without stopping; its \d+ claim\(s\) are released/
    );
    const lake = (run: string) => join(run, 's3', 'strata-lake');
    expect(await silverHashes(lake(killed))).toEqual(await silverHashes(lake(clean)));
    await withLake(killed, async (runtime) => {
      const processing = await runtime.dynamo.client.send(
        new ScanCommand({
          TableName: LEDGER_TABLE,
          FilterExpression: '#status = :processing',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':processing': { S: 'PROCESSING' } },
        })
      );
      expect(processing.Count).toBe(0);
    });
  });
});

describe('strata weekly-sync', () => {
  it('syncs the ISO week of the given date for every configured feed, and says when a week is empty', async () => {
    // Act
    const run = await strata(['weekly-sync', '--dir', join(dir, 'weekly'), '--week', '2026-12-31']);

    // Assess: the configured feeds, each week empty, which is said, not passed over
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual(
      FEEDS.map((feed) => `⚠ weekly-sync raw/${feed}/2026/week53/: no objects to sync`)
    );
  });

  it('exits 2 when --week is not a date', async () => {
    // Act
    const run = await strata(['weekly-sync', '--dir', join(dir, 'weekly'), '--week', 'soon']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--week: "soon" must be a date');
  });
});
