import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
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
