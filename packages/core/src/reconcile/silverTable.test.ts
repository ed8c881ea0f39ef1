import { describe, expect, it } from 'vitest';
import { silverTableOf } from './silverTable.js';

const FOUR_KEYS = ['year', 'month', 'day', 'mode'];

describe('Function: silverTableOf', () => {
  it('adds the lineage columns and collects each partition key’s values from the parts', () => {
    // Prepare
    const columns = [
      { name: 'user_id', path: '$."user"."id"', type: 'BIGINT' as const },
      { name: 'mode', path: '$."MODE"', type: 'VARCHAR' as const },
    ];
    const outputs = [
      'silver/clicks/year=2024/month=02/day=29/mode=web/part-b2-00000.parquet',
      'silver/clicks/year=2023/month=12/day=31/mode=ios/part-b1-00001.parquet',
      'silver/clicks/year=2024/month=02/day=29/mode=ios/part-b1-00000.parquet',
      'silver/clicks/year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__/mode=__HIVE_DEFAULT_PARTITION__/part-b3-00000.parquet',
      // Another feed's part never lands in this table.
      'silver/clicks_v2/year=1999/month=01/day=01/mode=kiosk/part-b4-00000.parquet',
    ];

    // Act
    const table = silverTableOf('clicks', columns, outputs, FOUR_KEYS);

    // Assess
    expect(table).toEqual({
      table: 'clicks',
      location: 'silver/clicks/',
      columns: [
        // Each flattened column carries its JSON path, so a name never hides where it came from.
        { name: 'user_id', type: 'BIGINT', comment: '$."user"."id"' },
        { name: 'mode', type: 'VARCHAR', comment: '$."MODE"' },
        { name: '_variant', type: 'JSON', comment: expect.stringContaining('values no column') },
        { name: '_source_key', type: 'VARCHAR', comment: expect.stringMatching(/^lineage: /) },
        { name: '_source_line', type: 'BIGINT', comment: expect.stringMatching(/^lineage: /) },
        { name: '_batch_id', type: 'VARCHAR', comment: expect.stringMatching(/^lineage: /) },
      ],
      partitionKeys: [
        { key: 'year', values: ['2023', '2024', '__HIVE_DEFAULT_PARTITION__'] },
        { key: 'month', values: ['02', '12', '__HIVE_DEFAULT_PARTITION__'] },
        { key: 'day', values: ['29', '31', '__HIVE_DEFAULT_PARTITION__'] },
        { key: 'mode', values: ['__HIVE_DEFAULT_PARTITION__', 'ios', 'web'] },
      ],
    });
  });

  it('keeps every partition key when a run wrote nothing', () => {
    // Act
    const table = silverTableOf('clicks', [], [], FOUR_KEYS);

    // Assess
    expect(table.partitionKeys).toEqual([
      { key: 'year', values: [] },
      { key: 'month', values: [] },
      { key: 'day', values: [] },
      { key: 'mode', values: [] },
    ]);
  });
});
