import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/** dynalite accepts any credentials; the SDK still insists on having some. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * dynalite on 127.0.0.1 and a free port: DynamoDB's API for the same adapters that run in AWS.
 *
 * It supports single-item conditional writes but not transactions or streams, which is why the
 * watermark store is built on conditional puts alone.
 */
export class LocalDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly #server: Server;

  private constructor(server: Server, endpoint: string) {
    this.#server = server;
    this.endpoint = endpoint;
    this.client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
  }

  /**
   * Starts dynalite, persisting to `path` when given (so watermarks survive between local
   * runs) or in memory, and creates the tables, each keyed by one string attribute.
   *
   * @param options - where to persist and which tables to create
   */
  static async start(options: {
    path?: string;
    tables: readonly { name: string; key: string }[];
  }): Promise<LocalDynamoDb> {
    const server = dynalite({ createTableMs: 0, ...(options.path ? { path: options.path } : {}) });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const local = new LocalDynamoDb(server, `http://127.0.0.1:${port}`);
    for (const table of options.tables) {
      try {
        await local.client.send(
          new CreateTableCommand({
            TableName: table.name,
            KeySchema: [{ AttributeName: table.key, KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: table.key, AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          })
        );
      } catch (error) {
        if ((error as Error).name !== 'ResourceInUseException') throw error;
      }
    }
    return local;
  }

  async stop(): Promise<void> {
    this.client.destroy();
    this.#server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
