import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TransientError } from '../errors/index.js';
import type { WatermarkState, WatermarkStore } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

export interface DynamoDbWatermarkStoreOptions {
  tableName: string;
  client?: DynamoDBClient;
}

/**
 * {@link WatermarkStore} on a DynamoDB table keyed by `query` (string).
 *
 * The state is one JSON attribute beside a numeric `version`; every put is a single-item
 * conditional write on that version, the one atomic primitive both DynamoDB and dynalite offer.
 *
 * @example
 * const watermarks = new DynamoDbWatermarkStore({ tableName: Resource.Watermarks.name });
 */
export class DynamoDbWatermarkStore implements WatermarkStore {
  readonly #table: string;
  readonly #client: DynamoDBClient;

  constructor(options: DynamoDbWatermarkStoreOptions) {
    this.#table = options.tableName;
    this.#client = options.client ?? new DynamoDBClient({});
  }

  async get(query: string): Promise<WatermarkState | undefined> {
    try {
      const out = await this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: { query: { S: query } },
          ConsistentRead: true,
        })
      );
      const state = out.Item?.state?.S;
      return state ? (JSON.parse(state) as WatermarkState) : undefined;
    } catch (error) {
      throw translateAwsError(error, `watermark get ${query}`);
    }
  }

  async put(state: WatermarkState, expectedVersion: number): Promise<void> {
    const next = { ...state, version: expectedVersion + 1 };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            query: { S: state.query },
            version: { N: String(next.version) },
            state: { S: JSON.stringify(next) },
          },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(#query)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
              }),
          ExpressionAttributeNames:
            expectedVersion === 0 ? { '#query': 'query' } : { '#version': 'version' },
        })
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new TransientError(
          `watermark ${state.query}: changed by another run (expected version ${expectedVersion})`,
          { cause: error }
        );
      }
      throw translateAwsError(error, `watermark put ${state.query}`);
    }
  }
}
