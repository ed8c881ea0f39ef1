import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CircuitOpenError } from '../errors/index.js';
import type { BreakerPermit, BreakerSettings, CircuitBreaker } from '../ports/index.js';
import { translateAwsError } from './translateAwsError.js';

export interface DynamoDbCircuitBreakerOptions {
  /** A table keyed by `circuit` (string), shared by every invocation of every function. */
  tableName: string;
  /** The dependency's name, e.g. `warehouse`: one item in the table. */
  circuit: string;
  settings: BreakerSettings;
  client?: DynamoDBClient;
  /** Milliseconds since the epoch; tests pass a clock they move. */
  now?: () => number;
}

const CLOSED = 'closed';
const OPEN = 'open';
const HALF_OPEN = 'half_open';

/** The breaker's item as read: absent means closed with no failures. */
interface BreakerItem {
  state: typeof CLOSED | typeof OPEN | typeof HALF_OPEN;
  failures: number;
  /** When it opened (ms). */
  openedAt: number;
  /** Until when the probe in flight holds the half-open breaker (ms). */
  probeUntil: number;
}

const numberOf = (value: AttributeValue | undefined) => Number(value?.N ?? 0);

const isoOf = (ms: number) => new Date(ms).toISOString();

/**
 * {@link CircuitBreaker} on one DynamoDB item per circuit, so its state survives invocations:
 * closed (every call goes through; consecutive transient failures are counted), open (every
 * call is refused with CircuitOpenError until the cool-down has passed), half-open (one caller
 * probes; the others are refused). Every change is a single-item conditional update, so of two
 * invocations finding the cool-down over only one becomes the probe.
 *
 * @example
 * const breaker = new DynamoDbCircuitBreaker({ tableName: Resource.Breakers.name,
 *   circuit: 'warehouse', settings: { failureThreshold: 5, cooldownSeconds: 120 } });
 */
export class DynamoDbCircuitBreaker implements CircuitBreaker {
  readonly #table: string;
  readonly #circuit: string;
  readonly #settings: BreakerSettings;
  readonly #client: DynamoDBClient;
  readonly #now: () => number;

  constructor(options: DynamoDbCircuitBreakerOptions) {
    this.#table = options.tableName;
    this.#circuit = options.circuit;
    this.#settings = options.settings;
    this.#client = options.client ?? new DynamoDBClient({});
    this.#now = options.now ?? Date.now;
  }

  async admit(): Promise<BreakerPermit> {
    const item = await this.#read();
    const now = this.#now();
    const cooldown = this.#settings.cooldownSeconds * 1000;
    if (item.state === CLOSED) return this.#closedPermit(item.failures);
    if (item.state === OPEN && now < item.openedAt + cooldown) {
      throw this.#refusal(
        `open since ${isoOf(item.openedAt)} after ${item.failures} consecutive failures; next probe after ${isoOf(item.openedAt + cooldown)}`
      );
    }
    if (item.state === HALF_OPEN && now < item.probeUntil) {
      throw this.#refusal(`half-open: another invocation probes until ${isoOf(item.probeUntil)}`);
    }
    // Cool-down over, or the probe in flight presumed lost: become the probe, if nobody else has.
    const probeUntil = now + cooldown;
    const claimed = await this.#update(
      {
        UpdateExpression: 'SET #state = :half, probe_until = :until',
        ConditionExpression:
          item.state === OPEN
            ? '#state = :open AND opened_at = :opened'
            : '#state = :half AND probe_until = :previous',
        ExpressionAttributeValues: {
          ':half': { S: HALF_OPEN },
          ':until': { N: String(probeUntil) },
          ...(item.state === OPEN
            ? { ':open': { S: OPEN }, ':opened': { N: String(item.openedAt) } }
            : { ':previous': { N: String(item.probeUntil) } }),
        },
      },
      'claim the probe'
    );
    if (!claimed) throw this.#refusal('half-open: another invocation became the probe first');
    return this.#probePermit(probeUntil);
  }

  /** In the closed state: a success ends a run of failures, a failure may open the breaker. */
  #closedPermit(failuresSeen: number): BreakerPermit {
    return {
      succeeded: async () => {
        if (failuresSeen === 0) return;
        await this.#update(
          {
            UpdateExpression: 'SET failures = :zero',
            ConditionExpression: '#state = :closed',
            ExpressionAttributeValues: { ':zero': { N: '0' }, ':closed': { S: CLOSED } },
          },
          'reset failures'
        );
      },
      failed: async () => {
        const out = await this.#send(
          {
            UpdateExpression: 'SET #state = if_not_exists(#state, :closed) ADD failures :one',
            ExpressionAttributeValues: { ':closed': { S: CLOSED }, ':one': { N: '1' } },
            ReturnValues: 'ALL_NEW',
          },
          'count a failure'
        );
        const failures = numberOf(out?.failures);
        if (out?.state?.S !== CLOSED || failures < this.#settings.failureThreshold) return;
        await this.#update(
          {
            UpdateExpression: 'SET #state = :open, opened_at = :now',
            ConditionExpression: '#state = :closed',
            ExpressionAttributeValues: {
              ':open': { S: OPEN },
              ':closed': { S: CLOSED },
              ':now': { N: String(this.#now()) },
            },
          },
          'open'
        );
      },
    };
  }

  /** The probe's outcome decides, unless its claim lapsed and another probe took over. */
  #probePermit(probeUntil: number): BreakerPermit {
    const mine = {
      ConditionExpression: '#state = :half AND probe_until = :mine',
      values: { ':half': { S: HALF_OPEN }, ':mine': { N: String(probeUntil) } },
    };
    return {
      succeeded: async () => {
        await this.#update(
          {
            UpdateExpression:
              'SET #state = :closed, failures = :zero REMOVE opened_at, probe_until',
            ConditionExpression: mine.ConditionExpression,
            ExpressionAttributeValues: {
              ...mine.values,
              ':closed': { S: CLOSED },
              ':zero': { N: '0' },
            },
          },
          'close'
        );
      },
      failed: async () => {
        await this.#update(
          {
            UpdateExpression: 'SET #state = :open, opened_at = :now ADD failures :one',
            ConditionExpression: mine.ConditionExpression,
            ExpressionAttributeValues: {
              ...mine.values,
              ':open': { S: OPEN },
              ':now': { N: String(this.#now()) },
              ':one': { N: '1' },
            },
          },
          'reopen'
        );
      },
    };
  }

  #refusal(why: string): CircuitOpenError {
    return new CircuitOpenError(`circuit breaker ${this.#circuit}: ${why}`);
  }

  async #read(): Promise<BreakerItem> {
    try {
      const out = await this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: { circuit: { S: this.#circuit } },
          ConsistentRead: true,
        })
      );
      const state = out.Item?.state?.S;
      return {
        state: state === OPEN || state === HALF_OPEN ? state : CLOSED,
        failures: numberOf(out.Item?.failures),
        openedAt: numberOf(out.Item?.opened_at),
        probeUntil: numberOf(out.Item?.probe_until),
      };
    } catch (error) {
      throw translateAwsError(error, `circuit breaker ${this.#circuit}: read`);
    }
  }

  /** A conditional update; false when its condition no longer holds (someone else moved first). */
  async #update(
    input: Pick<
      UpdateItemCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'
    >,
    action: string
  ): Promise<boolean> {
    try {
      await this.#send(input, action);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async #send(
    input: Omit<UpdateItemCommandInput, 'TableName' | 'Key' | 'ExpressionAttributeNames'>,
    action: string
  ): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const out = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { circuit: { S: this.#circuit } },
          ExpressionAttributeNames: { '#state': 'state' },
          ...input,
        })
      );
      return out.Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      throw translateAwsError(error, `circuit breaker ${this.#circuit}: ${action}`);
    }
  }
}
