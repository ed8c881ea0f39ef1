import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { DynamoDbLedger } from './DynamoDbLedger.js';

let dynamo: LocalDynamoDb;
let ledger: DynamoDbLedger;
const now = new Date('2026-07-01T00:00:00Z');
/** A lease as long as FlattenBatch's: 30 minutes. */
const LEASE = 30 * 60_000;
const later = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

beforeAll(async () => {
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'ledger', key: 'object_key' }] });
  ledger = new DynamoDbLedger({ tableName: 'ledger', client: dynamo.client });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('Class: DynamoDbLedger (on dynalite)', () => {
  describe('Method: claim', () => {
    it('lets one batch own an object, and a retry of that batch take it again as the same attempt', async () => {
      // Act
      const first = await ledger.claim('raw/a.json', 'batch-1', now, LEASE);
      const rival = await ledger.claim('raw/a.json', 'batch-2', now, LEASE);
      const retry = await ledger.claim('raw/a.json', 'batch-1', now, LEASE);

      // Assess
      expect([first, rival, retry].map((claim) => claim.granted)).toEqual([true, false, true]);
      const entry = (await ledger.getMany(['raw/a.json'])).get('raw/a.json');
      expect(entry).toMatchObject({ status: 'PROCESSING', batchId: 'batch-1', attempts: 1 });
    });

    it('never hands out an object that already succeeded', async () => {
      // Prepare
      await ledger.claim('raw/b.json', 'batch-1', now, LEASE);
      await ledger.succeed('raw/b.json', 'batch-1', { rowsWritten: 10, rowsQuarantined: 2 }, now);

      // Act
      const again = await ledger.claim('raw/b.json', 'batch-1', now, LEASE);

      // Assess
      expect(again).toEqual({ granted: false });
      expect((await ledger.getMany(['raw/b.json'])).get('raw/b.json')).toMatchObject({
        status: 'SUCCEEDED',
        rowsWritten: 10,
        rowsQuarantined: 2,
      });
    });

    it('lets another batch take an object that failed, keeping the attempt count', async () => {
      // Prepare
      await ledger.claim('raw/c.json', 'batch-1', now, LEASE);
      await ledger.fail('raw/c.json', 'batch-1', 'truncated gzip', now);

      // Act
      const taken = await ledger.claim('raw/c.json', 'batch-9', now, LEASE);

      // Assess
      expect(taken).toMatchObject({
        granted: true,
        previous: { status: 'FAILED', batchId: 'batch-1', error: 'truncated gzip' },
      });
      const entry = (await ledger.getMany(['raw/c.json'])).get('raw/c.json');
      expect(entry).toMatchObject({ status: 'PROCESSING', batchId: 'batch-9', attempts: 2 });
      expect(entry?.error).toBeUndefined();
    });

    it('lets another batch take over a claim whose lease lapsed, and returns the lapsed one', async () => {
      // Prepare
      await ledger.claim('raw/lease.json', 'batch-dead', now, LEASE);

      // Act
      const early = await ledger.claim('raw/lease.json', 'batch-next', later(29), LEASE);
      const late = await ledger.claim('raw/lease.json', 'batch-next', later(31), LEASE);

      // Assess
      expect(early).toEqual({ granted: false });
      expect(late).toMatchObject({
        granted: true,
        previous: { status: 'PROCESSING', batchId: 'batch-dead', attempts: 1 },
      });
      expect((await ledger.getMany(['raw/lease.json'])).get('raw/lease.json')).toMatchObject({
        status: 'PROCESSING',
        batchId: 'batch-next',
        attempts: 2,
        leaseUntil: later(61).toISOString(),
      });
    });

    it('renews the lease when the holding batch claims again', async () => {
      // Prepare
      await ledger.claim('raw/renew.json', 'batch-1', now, LEASE);
      await ledger.claim('raw/renew.json', 'batch-1', later(20), LEASE);

      // Act
      const rival = await ledger.claim('raw/renew.json', 'batch-2', later(40), LEASE);

      // Assess
      expect(rival).toEqual({ granted: false });
    });
  });

  describe('Method: expireLeases', () => {
    it('ends every live lease at once, so the next batch takes the objects without waiting', async () => {
      // Prepare
      await ledger.claim('raw/held-1.json', 'batch-killed', now, LEASE);
      await ledger.claim('raw/held-2.json', 'batch-killed', now, LEASE);
      await ledger.claim('raw/done.json', 'batch-killed', now, LEASE);
      await ledger.succeed(
        'raw/done.json',
        'batch-killed',
        { rowsWritten: 1, rowsQuarantined: 0 },
        now
      );

      // Act
      const expired = await ledger.expireLeases(later(1));
      const taken = await ledger.claim('raw/held-1.json', 'batch-rerun', later(2), LEASE);
      const done = await ledger.claim('raw/done.json', 'batch-rerun', later(2), LEASE);

      // Assess
      expect(expired).toBeGreaterThanOrEqual(2);
      expect(taken.granted).toBe(true);
      expect(done.granted).toBe(false);
    });
  });

  describe('Method: succeed', () => {
    it('lets the same batch settle an object twice, as a retried batch does', async () => {
      // Prepare
      await ledger.claim('raw/e.json', 'batch-1', now, LEASE);
      await ledger.succeed('raw/e.json', 'batch-1', { rowsWritten: 3, rowsQuarantined: 0 }, now);

      // Act
      const again = ledger.succeed(
        'raw/e.json',
        'batch-1',
        { rowsWritten: 3, rowsQuarantined: 0 },
        now
      );

      // Assess
      await expect(again).resolves.toBeUndefined();
    });

    it('refuses a batch that does not hold the object', async () => {
      // Prepare
      await ledger.claim('raw/d.json', 'batch-1', now, LEASE);

      // Act
      const attempt = ledger.succeed(
        'raw/d.json',
        'batch-2',
        { rowsWritten: 1, rowsQuarantined: 0 },
        now
      );

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: ErrorName.Terminal });
    });
  });

  describe('Method: getMany', () => {
    it('reads more keys than one BatchGetItem takes and leaves out unknown ones', async () => {
      // Prepare
      const keys = Array.from({ length: 230 }, (_, i) => `raw/many/${i}.json`);
      for (const key of keys.slice(0, 120)) await ledger.claim(key, 'batch-m', now, LEASE);

      // Act
      const entries = await ledger.getMany(keys);

      // Assess
      expect(entries.size).toBe(120);
      expect(entries.get('raw/many/119.json')?.status).toBe('PROCESSING');
      expect(entries.has('raw/many/120.json')).toBe(false);
    });
  });
});
