import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { QualityFailedError } from '@strata/core/errors';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { stageHandler } from './handler.js';

const context = { functionName: 'Extract', awsRequestId: 'test' } as Context;

describe('Function: stageHandler', () => {
  it('fails a stage that writes to a full disk with Strata.Terminal naming the disk', async () => {
    // Prepare: /dev/full answers every write with ENOSPC, as a full /tmp does
    const handler = stageHandler('extract', () => writeFile('/dev/full', 'rows'));

    // Act
    const attempt = handler({}, context);

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'Strata.Terminal',
      message: expect.stringContaining(`disk full: no space left on the disk holding ${tmpdir()}`),
    });
  });

  it('passes any other error on as it was', async () => {
    // Prepare
    const handler = stageHandler('extract', async () => {
      throw new TypeError('not a disk problem');
    });

    // Act
    const attempt = handler({}, context);

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'TypeError',
      message: 'not a disk problem',
    });
  });
});

/** The EMF documents one invocation printed, as CloudWatch would read them from the log. */
const emfOf = async (invoke: () => Promise<unknown>) => {
  const lines: string[] = [];
  const write = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
  try {
    await invoke().catch(() => undefined);
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: EmfMeta });
};

interface EmfMeta {
  CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
}

const metricNames = (doc: { _aws: EmfMeta }) =>
  doc._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((metric) => metric.Name)).sort();

describe('Function: stageHandler, metrics', () => {
  it('publishes what the result counts under the stage, and again under stage and feed', async () => {
    // Prepare
    const handler = stageHandler(
      'flatten-batch',
      async () => ({ feed: 'payments', rowsWritten: 7, recordsQuarantined: 2 }),
      (result) => ({
        feed: result.feed,
        rows: result.rowsWritten,
        quarantined: result.recordsQuarantined,
      })
    );

    // Act
    const docs = await emfOf(() => handler({}, context));

    // Assess
    const perStage = docs.find((d) => d.feed === undefined);
    const perFeed = docs.find((d) => d.feed === 'payments');
    expect(perStage).toMatchObject({ stage: 'flatten-batch', service: 'strata', Rows: 7 });
    expect(perStage?.QuarantinedRecords).toBe(2);
    expect(perStage?._aws.CloudWatchMetrics[0]?.Namespace).toBe('Strata');
    expect(metricNames(perStage as { _aws: EmfMeta })).toEqual([
      'QuarantinedRecords',
      'Rows',
      'StageDuration',
    ]);
    expect(perFeed).toMatchObject({ stage: 'flatten-batch', feed: 'payments', Rows: 7 });
  });

  it('counts a data-quality failure apart from other failures', async () => {
    // Prepare
    const handler = stageHandler('bronze-to-silver', async () => {
      throw new QualityFailedError('silver_orders: 3 duplicate keys');
    });

    // Act
    const docs = await emfOf(() => handler({}, context));

    // Assess
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      stage: 'bronze-to-silver',
      StageFailures: 1,
      QualityFailures: 1,
    });
  });
});
