import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitOpenError, ErrorName, TransientError } from '../errors/index.js';
import { DynamoDbCircuitBreaker } from './DynamoDbCircuitBreaker.js';

let dynamo: LocalDynamoDb;
let clock = Date.parse('2026-12-07T06:00:00Z');
const settings = { failureThreshold: 3, cooldownSeconds: 60 };

/** One Lambda invocation's breaker: a new instance, sharing only the table. */
const invocation = (circuit: string) =>
  new DynamoDbCircuitBreaker({
    tableName: 'breakers',
    circuit,
    settings,
    client: dynamo.client,
    now: () => clock,
  });

/** One invocation calling the dependency: admitted or refused, then how the call went. */
const call = async (circuit: string, outcome: 'ok' | 'down'): Promise<'ran' | 'refused'> => {
  try {
    const permit = await invocation(circuit).admit();
    await (outcome === 'ok' ? permit.succeeded() : permit.failed());
    return 'ran';
  } catch (error) {
    if (error instanceof CircuitOpenError) return 'refused';
    throw error;
  }
};

beforeAll(async () => {
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'breakers', key: 'circuit' }] });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('Class: DynamoDbCircuitBreaker (on dynalite, one instance per invocation)', () => {
  it('opens after the threshold of consecutive failures and refuses fast as Strata.Transient', async () => {
    // Act
    const before = [await call('a', 'down'), await call('a', 'down'), await call('a', 'down')];
    const refusal = await invocation('a')
      .admit()
      .catch((error: unknown) => error);

    // Assess
    expect(before).toEqual(['ran', 'ran', 'ran']);
    expect(refusal).toBeInstanceOf(CircuitOpenError);
    expect(refusal).toMatchObject({ name: ErrorName.Transient, code: 'CircuitOpen' });
    expect((refusal as Error).message).toMatch(
      /^circuit breaker a: open since 2026-12-07T06:00:00.000Z after 3 consecutive failures; next probe after 2026-12-07T06:01:00.000Z$/
    );
  });

  it('counts only consecutive failures: a success in between starts the count again', async () => {
    // Act
    const outcomes = [
      await call('b', 'down'),
      await call('b', 'down'),
      await call('b', 'ok'),
      await call('b', 'down'),
      await call('b', 'down'),
      await call('b', 'ok'),
    ];

    // Assess
    expect(outcomes).toEqual(['ran', 'ran', 'ran', 'ran', 'ran', 'ran']);
  });

  it('half-opens after the cool-down for one probe, and closes when the probe succeeds', async () => {
    // Prepare
    for (let i = 0; i < 3; i += 1) await call('c', 'down');
    const openedAt = clock;

    // Act
    clock = openedAt + 59_000;
    const duringCooldown = await call('c', 'ok');
    clock = openedAt + 60_000;
    const probe = await invocation('c').admit();
    const besideProbe = await call('c', 'ok');
    await probe.succeeded();
    const afterClose = [await call('c', 'ok'), await call('c', 'down'), await call('c', 'ok')];

    // Assess
    expect(duringCooldown).toBe('refused');
    expect(besideProbe).toBe('refused');
    expect(afterClose).toEqual(['ran', 'ran', 'ran']);
  });

  it('reopens for another cool-down when the probe fails', async () => {
    // Prepare
    for (let i = 0; i < 3; i += 1) await call('d', 'down');
    clock += 60_000;

    // Act
    const probe = await call('d', 'down');
    const rightAfter = await call('d', 'ok');
    clock += 60_000;
    const nextProbe = await call('d', 'ok');
    const closed = await call('d', 'ok');

    // Assess
    expect([probe, rightAfter, nextProbe, closed]).toEqual(['ran', 'refused', 'ran', 'ran']);
  });

  it('lets exactly one of many concurrent invocations probe', async () => {
    // Prepare
    for (let i = 0; i < 3; i += 1) await call('e', 'down');
    clock += 60_000;

    // Act
    const admissions = await Promise.allSettled(
      Array.from({ length: 8 }, () => invocation('e').admit())
    );

    // Assess
    const admitted = admissions.filter((a) => a.status === 'fulfilled');
    const refused = admissions.flatMap((a) => (a.status === 'rejected' ? [a.reason] : []));
    expect(admitted).toHaveLength(1);
    expect(refused).toHaveLength(7);
    for (const reason of refused) expect(reason).toBeInstanceOf(CircuitOpenError);
  });

  it('lets the next invocation probe when the probe in flight never reports', async () => {
    // Prepare
    for (let i = 0; i < 3; i += 1) await call('f', 'down');
    clock += 60_000;
    await invocation('f').admit(); // this invocation dies before it reports

    // Act
    const whileHeld = await call('f', 'ok');
    clock += 60_000;
    const takeover = await call('f', 'ok');

    // Assess
    expect([whileHeld, takeover]).toEqual(['refused', 'ran']);
  });

  it('translates a missing table into Strata.Terminal instead of admitting blindly', async () => {
    // Prepare
    const breaker = new DynamoDbCircuitBreaker({
      tableName: 'no-such-table',
      circuit: 'g',
      settings,
      client: dynamo.client,
    });

    // Act
    const error = await breaker.admit().catch((e: unknown) => e);

    // Assess
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ name: ErrorName.Terminal });
  });
});
