import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TerminalError } from '../errors/index.js';
import type { Claim, Ledger, LedgerEntry, LedgerStatus } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

export interface DynamoDbLedgerOptions {
  tableName: string;
  client?: DynamoDBClient;
}

/** BatchGetItem reads at most 100 keys per request. */
const BATCH_GET_LIMIT = 100;

const toEntry = (item: Record<string, AttributeValue>): LedgerEntry => ({
  objectKey: item.object_key?.S ?? '',
  status: (item.status?.S ?? 'PENDING') as LedgerStatus,
  attempts: Number(item.attempts?.N ?? 0),
  updatedAt: item.updated_at?.S ?? '',
  ...(item.batch_id?.S ? { batchId: item.batch_id.S } : {}),
  ...(item.lease_until?.S ? { leaseUntil: item.lease_until.S } : {}),
  ...(item.rows_written?.N ? { rowsWritten: Number(item.rows_written.N) } : {}),
  ...(item.rows_quarantined?.N ? { rowsQuarantined: Number(item.rows_quarantined.N) } : {}),
  ...(item.error?.S ? { error: item.error.S } : {}),
});

/**
 * {@link Ledger} on a DynamoDB table keyed by `object_key`, with every transition a single-item
 * conditional update (the primitive DynamoDB and dynalite share).
 *
 * @example
 * const ledger = new DynamoDbLedger({ tableName: Resource.Ledger.name });
 */
export class DynamoDbLedger implements Ledger {
  readonly #table: string;
  readonly #client: DynamoDBClient;

  constructor(options: DynamoDbLedgerOptions) {
    this.#table = options.tableName;
    this.#client = options.client ?? new DynamoDBClient({});
  }

  async getMany(objectKeys: readonly string[]): Promise<Map<string, LedgerEntry>> {
    const entries = new Map<string, LedgerEntry>();
    for (let start = 0; start < objectKeys.length; start += BATCH_GET_LIMIT) {
      let keys: Record<string, AttributeValue>[] = [
        ...new Set(objectKeys.slice(start, start + BATCH_GET_LIMIT)),
      ].map((key) => ({ object_key: { S: key } }));
      // DynamoDB may leave keys unprocessed under load; ask again for those until none is left.
      for (let round = 0; keys.length > 0; round++) {
        if (round === 10) throw new TerminalError('ledger: keys still unprocessed after 10 rounds');
        try {
          const out = await this.#client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } },
            })
          );
          for (const item of out.Responses?.[this.#table] ?? []) {
            const entry = toEntry(item);
            entries.set(entry.objectKey, entry);
          }
          keys = out.UnprocessedKeys?.[this.#table]?.Keys ?? [];
        } catch (error) {
          throw translateAwsError(error, 'ledger batch get');
        }
      }
    }
    return entries;
  }

  async claim(objectKey: string, batchId: string, now: Date, leaseMs: number): Promise<Claim> {
    const values = {
      ':processing': { S: 'PROCESSING' },
      ':failed': { S: 'FAILED' },
      ':batch': { S: batchId },
      ':now': { S: now.toISOString() },
      ':until': { S: new Date(now.getTime() + leaseMs).toISOString() },
    };
    // A retry of the batch that holds (or failed) the object is the same attempt, not a new one.
    const own = await this.#transition(objectKey, {
      condition: '#status IN (:processing, :failed) AND batch_id = :batch',
      update: 'SET #status = :processing, lease_until = :until, updated_at = :now REMOVE #error',
      values,
    });
    // A claim without a lease was made before leases existed: its batch is long gone.
    const previous =
      own !== false
        ? own
        : await this.#transition(objectKey, {
            condition:
              'attribute_not_exists(object_key) OR #status IN (:pending, :failed) OR (#status = :processing AND (attribute_not_exists(lease_until) OR lease_until < :now))',
            update:
              'SET #status = :processing, batch_id = :batch, attempts = if_not_exists(attempts, :zero) + :one, lease_until = :until, updated_at = :now REMOVE #error',
            values: {
              ...values,
              ':pending': { S: 'PENDING' },
              ':zero': { N: '0' },
              ':one': { N: '1' },
            },
          });
    if (previous === false) return { granted: false };
    return previous ? { granted: true, previous } : { granted: true };
  }

  async succeed(
    objectKey: string,
    batchId: string,
    counts: { rowsWritten: number; rowsQuarantined: number },
    now: Date
  ): Promise<void> {
    await this.#settle(objectKey, batchId, 'SUCCEEDED', {
      update: 'rows_written = :written, rows_quarantined = :quarantined',
      values: {
        ':written': { N: String(counts.rowsWritten) },
        ':quarantined': { N: String(counts.rowsQuarantined) },
      },
      now,
    });
  }

  async fail(objectKey: string, batchId: string, error: string, now: Date): Promise<void> {
    await this.#settle(objectKey, batchId, 'FAILED', {
      update: '#error = :error',
      values: { ':error': { S: error.slice(0, 1000) } },
      now,
    });
  }

  async expireLeases(now: Date): Promise<number> {
    let expired = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      let page: ScanCommandOutput;
      try {
        page = await this.#client.send(
          new ScanCommand({
            TableName: this.#table,
            ConsistentRead: true,
            FilterExpression: '#status = :processing',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':processing': { S: 'PROCESSING' } },
            ...(start ? { ExclusiveStartKey: start } : {}),
          })
        );
      } catch (error) {
        throw translateAwsError(error, 'ledger scan');
      }
      for (const entry of (page.Items ?? []).map(toEntry)) {
        // Only the claim that was read: one settled or renewed since keeps its state.
        const ended = await this.#transition(entry.objectKey, {
          condition: '#status = :processing AND batch_id = :batch AND updated_at = :seen',
          update: 'SET lease_until = :now',
          values: {
            ':processing': { S: 'PROCESSING' },
            ':batch': { S: entry.batchId ?? '' },
            ':seen': { S: entry.updatedAt },
            ':now': { S: now.toISOString() },
          },
        });
        if (ended !== false) expired++;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return expired;
  }

  /** PROCESSING (or already `status`) by `batchId` → `status`; else the batch lost its claim. */
  async #settle(
    objectKey: string,
    batchId: string,
    status: 'SUCCEEDED' | 'FAILED',
    change: { update: string; values: Record<string, AttributeValue>; now: Date }
  ): Promise<void> {
    // Settling again to the same state is a retry of the same batch, and changes nothing new.
    const settled = await this.#transition(objectKey, {
      condition: 'batch_id = :batch AND (#status = :processing OR #status = :next)',
      update: `SET #status = :next, updated_at = :now, ${change.update} REMOVE lease_until`,
      values: {
        ':processing': { S: 'PROCESSING' },
        ':batch': { S: batchId },
        ':next': { S: status },
        ':now': { S: change.now.toISOString() },
        ...change.values,
      },
    });
    if (settled === false) {
      throw new TerminalError(`ledger: ${objectKey} is not PROCESSING by batch ${batchId}`);
    }
  }

  /**
   * One conditional update: false when the condition did not hold, else the entry it replaced
   * (undefined for a new one).
   */
  async #transition(
    objectKey: string,
    expression: { condition: string; update: string; values: Record<string, AttributeValue> }
  ): Promise<LedgerEntry | undefined | false> {
    const names: Record<string, string> = {};
    if (expression.condition.includes('#status') || expression.update.includes('#status')) {
      names['#status'] = 'status';
    }
    if (expression.update.includes('#error')) names['#error'] = 'error';
    try {
      const out = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { object_key: { S: objectKey } },
          ConditionExpression: expression.condition,
          UpdateExpression: expression.update,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: expression.values,
          ReturnValues: 'ALL_OLD',
        })
      );
      return out.Attributes ? toEntry(out.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw translateAwsError(error, `ledger update ${objectKey}`);
    }
  }
}
