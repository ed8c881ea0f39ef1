import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from '../../../../test/support/lake.js';
import { type LocalLake, startLocalLake } from '../../../../test/support/localLake.js';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import { ErrorName } from '../errors/index.js';
import { parseFeatureContract } from '../feature-contract/index.js';
import { Lake } from '../lake/index.js';
import type {
  DeadLetter,
  DeadLetterQueue,
  DeleteRecordsResult,
  FeatureDeletion,
  FeatureRecord,
  FeatureSink,
  PutRecordsResult,
} from '../ports/index.js';
import { finishFeatureIngest } from './finishFeatureIngest.js';
import { ingestFeatureRange } from './ingestFeatureRange.js';
import { planFeatureIngest } from './planFeatureIngest.js';
import { type FeatureIngestDeps, runFeatureIngest } from './runFeatureIngest.js';
import { FeatureState } from './state.js';

let lake: LocalLake;

const contract = parseFeatureContract(
  'ml_features',
  `-- record id:  customer_id
-- event time: event_time String
-- feature:    customer_id Integral
-- feature:    order_count Integral
-- feature:    total_spent Fractional
-- feature:    big Integral`
);

/**
 * The feature store's port, recording what reaches it: `throwOn` rejects that call (1-based) as
 * the service being unavailable; `refuse` returns those record ids as failed.
 */
class RecordingSink implements FeatureSink {
  readonly sent: FeatureRecord[] = [];
  #calls = 0;

  constructor(readonly options: { throwOn?: number; refuse?: string[] } = {}) {}

  async putRecords(_group: string, records: readonly FeatureRecord[]): Promise<PutRecordsResult> {
    this.#calls++;
    if (this.#calls === this.options.throwOn) {
      throw Object.assign(new Error('throttled'), { name: ErrorName.Transient });
    }
    const refused = (r: FeatureRecord) => this.options.refuse?.includes(String(r.customer_id));
    this.sent.push(...records.filter((r) => !refused(r)));
    const failed = records
      .filter(refused)
      .map((record) => ({ record, error: { name: 'Strata.Terminal', message: 'refused' } }));
    return { written: records.length - failed.length, retried: 1, failed };
  }

  readonly deleted: FeatureDeletion[] = [];

  async deleteRecords(
    _group: string,
    deletions: readonly FeatureDeletion[]
  ): Promise<DeleteRecordsResult> {
    const refused = (d: FeatureDeletion) => this.options.refuse?.includes(d.recordId);
    this.deleted.push(...deletions.filter((d) => !refused(d)));
    const failed = deletions
      .filter(refused)
      .map((deletion) => ({ deletion, error: { name: 'Strata.Terminal', message: 'refused' } }));
    return { deleted: deletions.length - failed.length, retried: 0, failed };
  }
}

class RecordingQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];
  async send(letters: readonly DeadLetter[]) {
    this.letters.push(...letters);
  }
}

/** Writes gold ml_features with these customers' order counts (`orderCount` as its SQL type). */
const givenFeatures = async (orders: Record<number, number>, orderCount = 'bigint') => {
  const rows = Object.entries(orders)
    .map(([id, count]) => `(${id}, ${count}, ${count * 10.5})`)
    .join(', ');
  const local = join(lake.dir, `ml_features-${Date.now()}.parquet`);
  await DuckDbEngine.use({}, (engine) =>
    engine.run(
      `copy (select customer_id::bigint as customer_id, order_count::${orderCount} as order_count, total_spent::double as total_spent, 9007199254740993::bigint as big from (values ${rows}) as t(customer_id, order_count, total_spent)) to ${quoteLiteral(local)} (format parquet)`
    )
  );
  await lake.store.upload(Lake.goldModel('ml_features'), local);
};

const depsOf = (
  group: string,
  sink: FeatureSink,
  deadLetters: DeadLetterQueue,
  engine: DuckDbEngine,
  maxFailedShare = 0.5,
  maxDeletedShare = 0.5
): FeatureIngestDeps => ({
  store: lake.store,
  engine,
  sink,
  deadLetters,
  featureGroup: group,
  contract,
  settings: { recordsPerBatch: 2, recordsPerRange: 4, maxFailedShare, maxDeletedShare },
});

const ingest = (runId: string, group: string, sink: FeatureSink, queue = new RecordingQueue()) =>
  DuckDbEngine.use({}, (engine) =>
    runFeatureIngest(
      { runId, runStartedAt: '2026-03-01T00:00:00Z' },
      depsOf(group, sink, queue, engine)
    )
  );

beforeAll(async () => {
  lake = await startLocalLake();
});

afterAll(async () => {
  await lake?.stop();
});

describe('Function: runFeatureIngest', () => {
  it('sends every record once, then only those whose features changed', async () => {
    // Prepare
    const [first, second, third] = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
    await givenFeatures({ 1: 1, 2: 2, 3: 3 });

    // Act
    const one = await ingest('run-1', 'changes', first);
    const two = await ingest('run-2', 'changes', second);
    await givenFeatures({ 1: 1, 2: 5, 3: 3, 4: 1 });
    const three = await ingest('run-3', 'changes', third);

    // Assess
    expect([one, two, three].map(({ records, unchanged }) => [records, unchanged])).toEqual([
      [3, 0],
      [0, 3],
      [2, 2],
    ]);
    // Integers as numbers (BIGINT ones too), one past 2^53 with its digits
    expect(third.sent).toEqual([
      {
        customer_id: 2,
        order_count: 5,
        total_spent: 52.5,
        big: '9007199254740993',
        event_time: '2026-03-01T00:00:00.000Z',
      },
      expect.objectContaining({ customer_id: 4, order_count: 1 }),
    ]);
  });

  it('deletes the records gone from the model once, and again next run if the deletion failed', async () => {
    // Prepare: customers 2 and 3 are sent, then leave the model (deleted at the source)
    await givenFeatures({ 1: 1, 2: 2, 3: 3, 4: 4 });
    await ingest('run-1', 'gone', new RecordingSink());
    await givenFeatures({ 1: 1, 4: 4 });
    const [refusing, next, after] = [
      new RecordingSink({ refuse: ['3'] }),
      new RecordingSink(),
      new RecordingSink(),
    ];
    const queue = new RecordingQueue();

    // Act
    const two = await ingest('run-2', 'gone', refusing, queue);
    const three = await ingest('run-3', 'gone', next);
    const four = await ingest('run-4', 'gone', after);

    // Assess
    expect(two).toMatchObject({ records: 0, deleted: 1, unchanged: 2, failed: 1 });
    expect(refusing.deleted).toEqual([{ recordId: '2', eventTime: '2026-03-01T00:00:00.000Z' }]);
    expect(queue.letters).toEqual([
      expect.objectContaining({
        key: '3',
        error: { name: 'Strata.Terminal', message: 'refused' },
        payload: { customer_id: '3', event_time: '2026-03-01T00:00:00.000Z' },
      }),
    ]);
    expect(three).toMatchObject({ records: 0, deleted: 1, failed: 0 });
    expect(next.deleted.map((d) => d.recordId)).toEqual(['3']);
    expect(four).toMatchObject({ records: 0, deleted: 0, unchanged: 2 });
    expect([...next.sent, ...after.sent, ...after.deleted]).toEqual([]);
  });

  it('holds every deletion when more than the allowed share of the group left the model, keeping their hashes', async () => {
    // Prepare: four customers sent, then gold loses three of them (a quarter may go)
    await givenFeatures({ 1: 1, 2: 2, 3: 3, 4: 4 });
    await ingest('run-1', 'held', new RecordingSink());
    await givenFeatures({ 1: 1 });
    const [held, back] = [new RecordingSink(), new RecordingSink()];

    // Act
    const two = await DuckDbEngine.use({}, (engine) =>
      runFeatureIngest(
        { runId: 'run-2', runStartedAt: '2026-03-01T00:00:00Z' },
        depsOf('held', held, new RecordingQueue(), engine, 0.5, 0.25)
      )
    );
    await givenFeatures({ 1: 1, 2: 2, 3: 3, 4: 4 });
    const three = await ingest('run-3', 'held', back);

    // Assess: nothing deleted; once gold has them back, nothing to send either
    expect(two).toMatchObject({ records: 0, deleted: 0, deletionsHeld: 3, unchanged: 1 });
    expect(held.deleted).toEqual([]);
    expect(three).toMatchObject({ records: 0, deleted: 0, deletionsHeld: 0, unchanged: 4 });
    expect(back.sent).toEqual([]);
  });

  it('fans out over ranges of whole batches and sends no record twice when a range is retried', async () => {
    // Prepare: 9 changed records → ranges of 4 (two batches of 2) → 3 ranges
    await givenFeatures({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9 });
    const failing = new RecordingSink({ throwOn: 2 });
    const retry = new RecordingSink();
    const input = { runId: 'run-1', runStartedAt: '2026-03-01T00:00:00Z' };

    // Act: range 0's second batch fails; the retry of range 0 and the others follow
    const result = await DuckDbEngine.use({}, async (engine) => {
      const plan = await planFeatureIngest(
        input,
        depsOf('ranges', failing, new RecordingQueue(), engine)
      );
      const again = await planFeatureIngest(
        input,
        depsOf('ranges', failing, new RecordingQueue(), engine)
      );
      expect(again).toEqual(plan);
      await expect(
        ingestFeatureRange(
          { runId: 'run-1', range: 0 },
          depsOf('ranges', failing, new RecordingQueue(), engine)
        )
      ).rejects.toMatchObject({ name: ErrorName.Transient });
      for (const range of plan.ranges) {
        await ingestFeatureRange(
          { runId: 'run-1', range },
          depsOf('ranges', retry, new RecordingQueue(), engine)
        );
      }
      // A redriven Map runs a finished range again: its marker answers, nothing is sent.
      await ingestFeatureRange(
        { runId: 'run-1', range: 2 },
        depsOf('ranges', retry, new RecordingQueue(), engine)
      );
      const finish = () =>
        finishFeatureIngest(input, {
          ...depsOf('ranges', retry, new RecordingQueue(), engine),
          maxFailedShare: 0,
        });
      const finished = await finish();
      // A retried finish (its files already deleted) answers the same
      expect(await finish()).toEqual(finished);
      return { plan, finished };
    });

    // Assess
    expect(result.plan).toEqual({
      featureGroup: 'ranges',
      changed: 9,
      unchanged: 0,
      deleted: 0,
      deletionsHeld: 0,
      ranges: [0, 1, 2],
    });
    const ids = [...failing.sent, ...retry.sent].map((record) => record.customer_id);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.finished).toMatchObject({ records: 9, unchanged: 0, failed: 0 });
    const markers = await keysUnder(lake.store, FeatureState.run('ranges', 'run-1'));
    expect(markers.filter((key) => key.endsWith('.done'))).toHaveLength(5 + 3);
    // The range files and hashes are gone once finished; plan and markers stay
    expect(markers.filter((key) => key.endsWith('.parquet'))).toEqual([]);
  });

  it('dead-letters the records that fail with their error, and sends only those again next run', async () => {
    // Prepare
    await givenFeatures({ 1: 1, 2: 2, 3: 3, 4: 4 });
    const queue = new RecordingQueue();
    const refusing = new RecordingSink({ refuse: ['3'] });
    const next = new RecordingSink();

    // Act
    const first = await ingest('run-1', 'partial', refusing, queue);
    const second = await ingest('run-2', 'partial', next);

    // Assess
    expect(first).toMatchObject({ records: 3, failed: 1, unchanged: 0 });
    expect(queue.letters).toEqual([
      {
        stage: 'feature-ingest',
        target: 'partial',
        runId: 'run-1',
        key: '3',
        error: { name: 'Strata.Terminal', message: 'refused' },
        payload: expect.objectContaining({ customer_id: 3, order_count: 3 }),
      },
    ]);
    expect(second).toMatchObject({ records: 1, unchanged: 3, failed: 0 });
    expect(next.sent.map((record) => record.customer_id)).toEqual([3]);
  });

  it('fails the stage when more than the allowed share fails, keeping what was sent', async () => {
    // Prepare
    await givenFeatures({ 1: 1, 2: 2, 3: 3, 4: 4 });
    const refusing = new RecordingSink({ refuse: ['1', '2', '3'] });

    // Act
    const attempt = DuckDbEngine.use({}, (engine) =>
      runFeatureIngest(
        { runId: 'run-1', runStartedAt: '2026-03-01T00:00:00Z' },
        depsOf('share', refusing, new RecordingQueue(), engine, 0.25)
      )
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.Terminal,
      message: expect.stringContaining('3 of 4 changed record(s) of share failed'),
    });
    const next = new RecordingSink();
    await ingest('run-2', 'share', next);
    expect(next.sent.map((record) => record.customer_id)).toEqual([1, 2, 3]);
  });

  it('refuses a model whose column type breaks the contract, naming the feature', async () => {
    // Prepare
    await givenFeatures({ 1: 1 }, 'varchar');

    // Act
    const attempt = ingest('run-1', 'mismatch', new RecordingSink());

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: ErrorName.BadInput,
      message: expect.stringContaining(
        'feature order_count is declared Integral but ml_features gives VARCHAR'
      ),
    });
  });

  it('dead-letters a record that breaks the contract without sending it, naming the feature', async () => {
    // Prepare: a null record id passes the column types but not the record schema
    const local = join(lake.dir, 'null-id.parquet');
    await DuckDbEngine.use({}, (engine) =>
      engine.run(
        `copy (select * from (values (1::bigint, 1::bigint, 1.5::double, 1::bigint), (null, 2, 3.0, 2)) as t(customer_id, order_count, total_spent, big)) to ${quoteLiteral(local)} (format parquet)`
      )
    );
    await lake.store.upload(Lake.goldModel('ml_features'), local);
    const queue = new RecordingQueue();
    const sink = new RecordingSink();

    // Act
    const result = await ingest('run-1', 'invalid', sink, queue);

    // Assess
    expect(result).toMatchObject({ records: 1, failed: 1 });
    expect(sink.sent.map((record) => record.customer_id)).toEqual([1]);
    expect(queue.letters[0]?.error).toEqual({
      name: ErrorName.BadInput,
      message: expect.stringMatching(/^record breaks the feature contract: customer_id: /),
    });
  });
});
