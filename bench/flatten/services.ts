import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbLedger, S3ObjectStore } from '@strata/core/adapters';
import { LOCAL_S3_CREDENTIALS } from '@strata/local/s3';

const MAIN = fileURLToPath(new URL('./servicesMain.ts', import.meta.url));
const BUCKET = 'bench-lake';

/** The real S3 and DynamoDB adapters, on local servers that run in another process. */
export interface BenchServices {
  store: S3ObjectStore;
  /** A ledger on one of the tables the services were started with. */
  ledger(table: string): DynamoDbLedger;
  stop(): Promise<void>;
}

/** The first line the child prints, or its exit if it dies first. */
const endpoints = async (child: ChildProcess): Promise<{ s3: string; dynamo: string }> => {
  if (!child.stdout) throw new Error('bench services: no stdout');
  const lines = createInterface({ input: child.stdout });
  const first = once(lines, 'line').then(([line]) => JSON.parse(String(line)));
  const exit = once(child, 'exit').then(([code]) => {
    throw new Error(`bench services exited with ${code} before listening`);
  });
  return Promise.race([first, exit]);
};

/**
 * Starts s3rver (one bucket, kept in `directory`, so a setup's objects are there for the run)
 * and dynalite (in memory, with empty ledger tables) in a child process, and returns the AWS
 * adapters on them.
 *
 * @param options - where s3rver keeps its objects, and the ledger tables to create
 */
export const startServices = async (options: {
  directory: string;
  ledgerTables?: readonly string[];
}): Promise<BenchServices> => {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      MAIN,
      '--directory',
      options.directory,
      '--bucket',
      BUCKET,
      '--tables',
      (options.ledgerTables ?? []).join(','),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] }
  );
  const { s3, dynamo } = await endpoints(child);
  const s3Client = new S3Client({
    endpoint: s3,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: LOCAL_S3_CREDENTIALS,
  });
  const dynamoClient = new DynamoDBClient({
    endpoint: dynamo,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    store: new S3ObjectStore({ bucket: BUCKET, client: s3Client }),
    ledger: (table) => new DynamoDbLedger({ tableName: table, client: dynamoClient }),
    stop: async () => {
      s3Client.destroy();
      dynamoClient.destroy();
      const exited = once(child, 'exit');
      child.stdin?.end();
      await exited;
    },
  };
};
