import { quoteIdentifier } from '@strata/core/config';
import type { FlatColumn } from '@strata/core/flatten';
import { beforeAll, describe, expect, it } from 'vitest';
import { keysUnder } from './support/lake.js';
import { useEmbeddedRuntime, withCatalogAndSilver } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);
// A feed the configuration does not name: flattened with the defaults, no partition.
const FEED = 'wallets';
/** Each folder has a field of its own; one run backfills the whole feed, one run each folder. */
const FOLDERS = ['race-a', 'race-b', 'race-c'];
const RUNS = [
  { executionName: 'backfill-all', prefix: `raw/${FEED}/` },
  ...FOLDERS.map((folder) => ({
    executionName: `backfill-${folder}`,
    prefix: `raw/${FEED}/${folder}/`,
  })),
];
const FILES = 4;
const RECORDS = 50;

const readJson = async <T>(key: string): Promise<T> =>
  JSON.parse(new TextDecoder().decode(await suite.runtime.store.get(key))) as T;

beforeAll(async () => {
  for (const folder of FOLDERS) {
    for (let file = 0; file < FILES; file++) {
      const lines = Array.from({ length: RECORDS }, (_, i) =>
        JSON.stringify({ id: `${folder}-${file}-${i}`, [`only_${folder.slice(-1)}`]: i })
      );
      await suite.runtime.store.put(
        `raw/${FEED}/${folder}/part-${file}.jsonl`,
        `${lines.join('\n')}\n`
      );
    }
  }
});

describe('backfills of one feed at once (embedded runtime)', () => {
  it('keeps every column in the registry and the catalog and writes no record twice', async () => {
    // Prepare: each run's Reconcile waits until every other run's has started too, so they overlap
    let arrived = 0;
    let resolve = () => {};
    const bothArrived = new Promise<void>((done) => {
      resolve = done;
    });

    // Act
    const outcomes = await Promise.all(
      RUNS.map(({ executionName, prefix }) =>
        suite.runtime.execute('backfill', {
          executionName,
          input: { feed: FEED, prefix },
          functionOverrides: {
            Reconcile: (real) => async (event, name) => {
              if (++arrived === RUNS.length) resolve();
              await bothArrived;
              return real(event, name);
            },
          },
        })
      )
    );

    // Assess
    expect(outcomes.map((outcome) => outcome.status)).toEqual(RUNS.map(() => 'SUCCEEDED'));
    const found = new Set<string>();
    for (const key of await keysUnder(suite.runtime.store, `_schemas/${FEED}/fragments/`)) {
      for (const column of (await readJson<{ columns: FlatColumn[] }>(key)).columns) {
        found.add(column.name);
      }
    }
    const registry = await readJson<{ columns: FlatColumn[] }>(`_schemas/${FEED}/schema.json`);
    const registered = registry.columns.map((column) => column.name);
    expect([...found]).toEqual(expect.arrayContaining(['id', 'only_a', 'only_b', 'only_c']));
    expect(registered).toEqual(expect.arrayContaining([...found]));
    const { cataloged, rows, distinct } = await withCatalogAndSilver(
      suite,
      FEED,
      async (engine, silver) => {
        const lineage = ['_source_key', '_source_line'].map(quoteIdentifier).join(', ');
        return {
          cataloged: (await engine.all(`describe catalog.silver.${quoteIdentifier(FEED)}`)).map(
            (row) => String(row.column_name)
          ),
          rows: await engine.scalarNumber(`select count(*) from ${silver}`),
          distinct: await engine.scalarNumber(
            `select count(*) from (select distinct ${lineage} from ${silver})`
          ),
        };
      }
    );
    expect(cataloged).toEqual(expect.arrayContaining(registered));
    expect(rows).toBe(FOLDERS.length * FILES * RECORDS);
    expect(distinct).toBe(rows);
  });
});
