import { LocalDynamoDb } from '@strata/local/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { DynamoDbLedger } from './DynamoDbLedger.js';

let dynamo: LocalDynamoDb;
let ledger: DynamoDbLedger;
const now = new Date('2026-07-01T00:00:00Z');

beforeAll(async () => {
  dynamo = await LocalDynamoDb.start({ tables: [{ name: 'ledger', key: 'object_key' }] });
  ledger = new DynamoDbLedger({ tableName: 'ledger', client: dynamo.client });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('Class: DynamoDbLedger (on dynalite)', () => {
  describe('Method: claim', () => {
    it('lets one batch own an object, and a retry of that batch take it again', async () => {
      // Act
      const first = await ledger.claim('raw/a.json', 'batch-1', now);
      const rival = await ledger.claim('raw/a.json', 'batch-2', now);
      const retry = await ledger.claim('raw/a.json', 'batch-1', now);

      // Assess
      expect([first, rival, retry]).toEqual([true, false, true]);
      const entry = (await ledger.getMany(['raw/a.json'])).get('raw/a.json');
      expect(entry).toMatchObject({ status: 'PROCESSING', batchId: 'batch-1', attempts: 2 });
    });

    it('never hands out an object that already succeeded', async () => {
      // Prepare
      await ledger.claim('raw/b.json', 'batch-1', now);
      await ledger.succeed('raw/b.json', 'batch-1', { rowsWritten: 10, rowsQuarantined: 2 }, now);

      // Act
      const again = await ledger.claim('raw/b.json', 'batch-1', now);

      // Assess
      expect(again).toBe(false);
      expect((await ledger.getMany(['raw/b.json'])).get('raw/b.json')).toMatchObject({
        status: 'SUCCEEDED',
        rowsWritten: 10,
        rowsQuarantined: 2,
      });
    });

    it('lets another batch take an object that failed, keeping the attempt count', async () => {
      // Prepare
      await ledger.claim('raw/c.json', 'batch-1', now);
      await ledger.fail('raw/c.json', 'batch-1', 'truncated gzip', now);

      // Act
      const taken = await ledger.claim('raw/c.json', 'batch-9', now);

      // Assess
      expect(taken).toBe(true);
      const entry = (await ledger.getMany(['raw/c.json'])).get('raw/c.json');
      expect(entry).toMatchObject({ status: 'PROCESSING', batchId: 'batch-9', attempts: 2 });
      expect(entry?.error).toBeUndefined();
    });
  });

  describe('Method: succeed', () => {
    it('lets the same batch settle an object twice, as a retried batch does', async () => {
      // Prepare
      await ledger.claim('raw/e.json', 'batch-1', now);
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
      await ledger.claim('raw/d.json', 'batch-1', now);

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
      for (const key of keys.slice(0, 120)) await ledger.claim(key, 'batch-m', now);

      // Act
      const entries = await ledger.getMany(keys);

      // Assess
      expect(entries.size).toBe(120);
      expect(entries.get('raw/many/119.json')?.status).toBe('PROCESSING');
      expect(entries.has('raw/many/120.json')).toBe(false);
    });
  });
});
