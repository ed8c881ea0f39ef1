import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../packages/local/src/cli.ts', import.meta.url));

let dir: string;
let child: ChildProcess;
let stdout = '';

/** Starts `strata serve` on free ports and waits until it says it serves. */
const startServe = () =>
  new Promise<void>((resolve, reject) => {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'serve', '--dir', dir, '--port', '0', '--s3-port', '0'],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '--openssl-legacy-provider',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      }
    );
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('serving until Ctrl-C')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => reject(new Error(`strata serve ended (${code}): ${stderr}`)));
  });

const endpointAfter = (label: string) =>
  new RegExp(`${label} at (http://127\\.0\\.0\\.1:\\d+)`).exec(stdout)?.[1] as string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-serve-'));
  await startServe();
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGINT');
    await closed;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('strata serve', () => {
  it('keeps local S3 up between uploads and runs a backfill started through the served API', async () => {
    // Prepare: what the served endpoints are, and a user's file uploaded to local S3
    const sfnEndpoint = endpointAfter('Step Functions API');
    const s3Endpoint = endpointAfter('local S3');
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const s3 = new S3Client({
      endpoint: s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    const sfn = new SFNClient({ endpoint: sfnEndpoint, region: 'us-east-1', credentials });
    const records = Array.from({ length: 5 }, (_, id) => JSON.stringify({ id, name: `n${id}` }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'strata-lake',
        Key: 'raw/mine/all_historical_files/part-0.jsonl',
        Body: `${records.join('\n')}\n`,
      })
    );

    // Act
    const machines = await sfn.send(new ListStateMachinesCommand({}));
    const backfill = machines.stateMachines?.find((machine) => machine.name?.endsWith('-backfill'));
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: backfill?.stateMachineArn,
        input: JSON.stringify({ feed: 'mine', prefix: 'raw/mine/all_historical_files/' }),
      })
    );
    let described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    while (described.status === 'RUNNING') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    }
    s3.destroy();
    sfn.destroy();

    // Assess
    expect(stdout).toContain(`aws stepfunctions --endpoint-url ${sfnEndpoint} start-execution`);
    expect(backfill?.stateMachineArn).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:strata-local-backfill'
    );
    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output as string) as {
      reconcile: { report: { recordsRead: number; rowsWritten: number } };
    };
    expect(output.reconcile.report).toMatchObject({ recordsRead: 5, rowsWritten: 5 });
  }, 120_000);
});

describe('strata <command> --stage', () => {
  it('runs a backfill through the Step Functions API of the stage it names, found by name', async () => {
    // Prepare: a second file in the served lake; the AWS SDK's own endpoint variable points the
    // stage's client at the served API, whose state machines are stage "local"
    const s3 = new S3Client({
      endpoint: endpointAfter('local S3'),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: 'strata-lake',
        Key: 'raw/mine/all_historical_files/part-1.jsonl',
        Body: '{"id":10}\n{"id":11}\n{"id":12}\n',
      })
    );
    s3.destroy();

    // Act
    const run = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CLI, 'backfill', '--stage', 'local', '--feed', 'mine'],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_SFN: endpointAfter('Step Functions API'),
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
        },
      }
    );

    // Assess: only the new file is planned (the earlier one was moved to raw-processed/)
    expect(run.stdout).toContain(
      '▶ backfill on stage local: arn:aws:states:us-east-1:000000000000:stateMachine:strata-local-backfill'
    );
    expect(run.stdout).toMatch(/✓ PlanBacklog {2}1 objects, .* in 1 batch\(es\)/);
    expect(run.stdout).toContain('▶ FlattenBacklog');
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /backfill mine: 3 records read = 3 rows written \+ 0 quarantined; 0 failed batch\(es\)/
    );
    expect(run.stdout).toMatch(
      /backfill SUCCEEDED — execution arn:aws:states:us-east-1:000000000000:execution:strata-local-backfill:backfill-mine-/
    );
  }, 120_000);
});
