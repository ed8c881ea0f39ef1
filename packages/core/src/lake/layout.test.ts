import { describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { assertRunId, datePartition, Lake } from './layout.js';
import { silverFileKey, silverManifestKey } from './silverTable.js';

describe('Function: assertRunId', () => {
  it.each([
    ['a path traversal', '../x'],
    ['a space', 'a b'],
    ['an empty string', ''],
    ['a slash', 'run/1'],
    ['a quote', "run'1"],
    ['81 characters', 'a'.repeat(81)],
  ])('rejects %s with Strata.BadInput', (_label, runId) => {
    // Act
    const act = () => assertRunId(runId);

    // Assess
    expect(act).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
  });

  it('accepts and returns an execution-name-like UUID', () => {
    // Prepare
    const runId = '3f2b8c1e-9a4d-4e7b-b0c2-5d6e7f8a9b0c';

    // Act
    const result = assertRunId(runId);

    // Assess
    expect(result).toBe(runId);
  });

  it('accepts dots, underscores and exactly 80 characters', () => {
    // Prepare
    const runIds = ['manual_2026-03-04.1', `r${'x'.repeat(79)}`];

    // Act
    const results = runIds.map(assertRunId);

    // Assess
    expect(results).toEqual(runIds);
  });
});

describe('Function: datePartition', () => {
  it('turns YYYY-MM-DD into a Hive year/month/day path', () => {
    // Act
    const partition = datePartition('2026-03-04');

    // Assess
    expect(partition).toBe('year=2026/month=03/day=04');
  });

  it.each(['2026-3-4', '2026-03-04T00:00:00Z', '20260304', '', '2026-13-45', '2026-02-30'])(
    'rejects "%s" with Strata.BadInput',
    (runDate) => {
      // Act
      const act = () => datePartition(runDate);

      // Assess
      expect(act).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
    }
  );
});

describe('Const: Lake', () => {
  describe('Method: bronzePart', () => {
    it('pads the part number to five digits under the date partition', () => {
      // Act
      const keys = [0, 7, 12345].map((n) => Lake.bronzePart('customer', '2026-03-04', 'run-a', n));

      // Assess
      expect(keys).toEqual([
        'bronze/customer/year=2026/month=03/day=04/part-run-a-00000.parquet',
        'bronze/customer/year=2026/month=03/day=04/part-run-a-00007.parquet',
        'bronze/customer/year=2026/month=03/day=04/part-run-a-12345.parquet',
      ]);
    });

    it('sorts parts in numeric order when the keys are sorted as strings', () => {
      // Prepare
      const numbers = [10, 2, 100, 1];

      // Act
      const keys = numbers.map((n) => Lake.bronzePart('orders', '2026-03-04', 'r', n)).sort();

      // Assess
      expect(keys.map((key) => Number(/-(\d+)\.parquet$/.exec(key)?.[1]))).toEqual([1, 2, 10, 100]);
    });

    it('rejects a malformed run date', () => {
      // Act
      const act = () => Lake.bronzePart('customer', '2026/03/04', 'run-a', 0);

      // Assess
      expect(act).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
    });
  });

  describe('Method: isBronzePartOf', () => {
    it("recognises the run's own parts and not those of a run whose id extends it", () => {
      // Prepare
      const own = Lake.bronzePart('customer', '2026-03-04', 'run-a', 3);
      const other = Lake.bronzePart('customer', '2026-03-04', 'run-a-2', 3);

      // Act
      const results = [own, other].map((key) => Lake.isBronzePartOf(key, 'customer', 'run-a'));

      // Assess
      expect(other.startsWith(own.slice(0, own.lastIndexOf('-')))).toBe(true);
      expect(results).toEqual([true, false]);
    });

    it('recognises part numbers past the five padded digits', () => {
      // Prepare
      const key = Lake.bronzePart('customer', '2026-03-04', 'run-a', 123_456);

      // Act
      const own = Lake.isBronzePartOf(key, 'customer', 'run-a');

      // Assess
      expect(own).toBe(true);
    });
  });

  describe('Method: featureOffline', () => {
    const root = Lake.featureOfflineRoot('customer-features', {
      account: '111122223333',
      region: 'eu-west-1',
      createdAt: 1593511200,
    });

    it("lays files out as SageMaker's offline store does, by the UTC hour of the event time", () => {
      // Prepare
      const eventTime = new Date('2026-03-04T05:06:07Z');

      // Act
      const key = Lake.featureOffline(root, eventTime, '108934320012Az11');

      // Assess
      expect(key).toBe(
        'feature-store/111122223333/sagemaker/eu-west-1/offline-store/customer-features-1593511200/data/year=2026/month=03/day=04/hour=05/20260304T050607Z_108934320012Az11.parquet'
      );
    });

    it('converts an offset time to UTC, crossing midnight', () => {
      // Prepare
      const eventTime = new Date('2026-03-04T23:30:00-02:00');

      // Act
      const key = Lake.featureOffline('r/', eventTime, 'n');

      // Assess
      expect(key).toBe('r/year=2026/month=03/day=05/hour=01/20260305T013000Z_n.parquet');
    });
  });

  describe('Method: silverFileKey / silverManifestKey / goldModel / quarantine / bronzeManifest', () => {
    it('derives every output key from the identity of its input', () => {
      // Act
      const keys = [
        silverFileKey('orders', 'run-a', 0, { key: 'o_orderdate_month', value: '1995-03' }),
        silverFileKey('region', 'run-a', 0),
        silverManifestKey('orders'),
        Lake.goldModel('sales_summary'),
        Lake.quarantine('orders', 'run-a'),
        Lake.bronzeManifest('orders', 'run-a'),
      ];

      // Assess
      expect(keys).toEqual([
        'silver/orders/o_orderdate_month=1995-03/part-run-a-0.parquet',
        'silver/region/part-run-a-0.parquet',
        'silver/orders/_manifest.json',
        'gold/sales_summary/data.parquet',
        'quarantine/orders/run=run-a/rejected.parquet',
        'bronze/orders/_manifests/run-a.json',
      ]);
    });
  });
});
