import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorName, TransientError } from '@strata/core/errors';
import { describe, expect, it } from 'vitest';
import { keysUnder } from './support/lake.js';
import { useEmbeddedRuntime } from './support/runtime.js';

const suite = useEmbeddedRuntime(0.002);

interface DeadLetterBody {
  execution: string;
  stateMachine: string;
  error: string;
  cause: string;
  input: unknown;
}

/** The dead letters this execution sent, parsed. */
const deadLettersOf = (executionName: string): DeadLetterBody[] =>
  suite.runtime.deadLetters
    .map((letter) => JSON.parse(letter.body) as DeadLetterBody)
    .filter((body) => body.execution.endsWith(`:${executionName}`));

const errorMessageOf = (cause: string): string =>
  (JSON.parse(cause) as { errorMessage: string }).errorMessage;

describe('pipeline state machine failure branch', () => {
  it('retries a transient stage failure, then sends it to the DLQ and alerts', async () => {
    // Prepare
    let attempts = 0;
    const failingSilverToGold = async () => {
      attempts += 1;
      throw new TransientError('warehouse of gold is on fire');
    };

    // Act
    const outcome = await suite.runtime.execute('pipeline', {
      executionName: 'forced-failure',
      input: { entities: ['region', 'nation'] },
      functionOverrides: { SilverToGold: () => failingSilverToGold },
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: ErrorName.Transient });
    expect(attempts).toBe(5);
    const [letter, ...others] = deadLettersOf('forced-failure');
    expect(others).toEqual([]);
    expect(letter).toMatchObject({
      stateMachine: 'strata-local-pipeline',
      error: ErrorName.Transient,
      input: { entities: ['region', 'nation'] },
    });
    expect(errorMessageOf(letter?.cause ?? '{}')).toBe('warehouse of gold is on fire');
    const alert = suite.runtime.alerts.find((a) => a.message.includes('forced-failure'));
    expect(alert).toMatchObject({ subject: 'Strata pipeline failed' });
    expect(alert?.message).toContain('Strata.Transient');
    expect(alert?.message).toContain('warehouse of gold is on fire');
    expect(await readFile(join(suite.dir, 'dead-letter-queue.jsonl'), 'utf8')).toContain(
      'forced-failure'
    );
    expect(await keysUnder(suite.runtime.store, 'gold/')).toEqual([]);
  });

  it('keeps the other entities when one extract fails, and reports that one with its statement', async () => {
    // Prepare
    const config = await suite.runtime.defaultConfig();
    const queries = config.queries as { name: string; sql: string }[];
    // A full refresh, whose statement is the configured one as it is.
    const part = queries.find((query) => query.name === 'part');
    if (!part) throw new Error('default config has no part query');
    part.sql = 'select * from snowflake_sample_data.tpch_sf1.no_such_table';
    await suite.runtime.putConfig(config);

    // Act
    const outcome = await suite.runtime.execute('pipeline', { executionName: 'bad-sql' });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: ErrorName.BadInput });
    const [letter, ...others] = deadLettersOf('bad-sql');
    expect(others).toEqual([]);
    const skipped = JSON.parse(letter?.cause ?? '[]') as {
      entity: string;
      error: { Error: string; Cause: string };
    }[];
    expect(skipped.map((entry) => [entry.entity, entry.error.Error])).toEqual([
      ['part', ErrorName.BadInput],
    ]);
    const message = errorMessageOf(skipped[0]?.error.Cause ?? '{}');
    expect(message).toMatch(/^extract part: warehouse query failed: .*no_such_table/);
    expect(message).toContain(
      '[statement: select * from snowflake_sample_data.tpch_sf1.no_such_table]'
    );
    expect(await keysUnder(suite.runtime.store, 'bronze/part/_manifests/bad-sql')).toEqual([]);
    const manifests = await keysUnder(suite.runtime.store, 'bronze/');
    expect(manifests.filter((key) => key.endsWith('/_manifests/bad-sql.json'))).toHaveLength(5);
    expect(await keysUnder(suite.runtime.store, 'silver/customer/')).toEqual([
      'silver/customer/_manifest.json',
      // An unpartitioned table's files are named for the run and the table's sequence.
      'silver/customer/part-bad-sql-s1-0.parquet',
    ]);
    expect(
      suite.runtime.alerts.find((alert) => alert.message.includes('bad-sql'))?.message
    ).toContain('no_such_table');
  });

  it('names the field when the config is invalid', async () => {
    // Prepare
    const config = await suite.runtime.defaultConfig();
    delete config.warehouse;
    (config.queries as { primary_key: string[] }[])[1] = {
      primary_key: [],
    } as never;
    await suite.runtime.putConfig(config);

    // Act
    const outcome = await suite.runtime.execute('pipeline', { executionName: 'bad-config' });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: ErrorName.BadInput });
    const message = errorMessageOf(deadLettersOf('bad-config')[0]?.cause ?? '{}');
    expect(message).toMatch(/^config: /);
    expect(message).toContain('warehouse:');
    expect(message).toContain('queries[1].name:');
    expect(message).toContain('queries[1].primary_key: needs at least one column');
  });

  it('rejects an unknown entity in the execution input before extracting anything', async () => {
    // Act
    const outcome = await suite.runtime.execute('pipeline', {
      executionName: 'unknown-entity',
      input: { entities: ['customers'] },
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: ErrorName.BadInput });
    const message = errorMessageOf(deadLettersOf('unknown-entity')[0]?.cause ?? '{}');
    expect(message).toBe(
      'execution input: entities: unknown "customers" (configured: region, nation, customer, part, orders, lineitem)'
    );
    expect(
      (await keysUnder(suite.runtime.store, 'bronze/')).filter((key) =>
        key.includes('unknown-entity')
      )
    ).toEqual([]);
  });
});
