import { describe, expect, it } from 'vitest';
import { captureOutput } from '../../../../test/support/cliOutput.js';
import { stageCommand } from './stage.js';

const capture = captureOutput;

describe('Function: stageCommand', () => {
  it('refuses, before calling AWS, a backfill on a stage without --feed or with --from', async () => {
    // Prepare
    const { lines, write } = capture();

    // Act
    const codes = [
      await stageCommand('prod', 'backfill', {}, write),
      await stageCommand('prod', 'backfill', { feed: 'mine', from: './exports' }, write),
    ];

    // Assess
    expect(codes).toEqual([2, 2]);
    expect(lines.err[0]).toMatch(/^--stage: backfill takes --feed <name>/);
    expect(lines.err).toHaveLength(2);
  });

  it('refuses a command that needs the local lake', async () => {
    // Prepare
    const { lines, write } = capture();

    // Act
    const code = await stageCommand('prod', 'query', {}, write);

    // Assess
    expect(code).toBe(2);
    expect(lines.err).toEqual([
      '--stage: only start, backfill --feed and weekly-sync run on a stage, not query',
    ]);
  });
});
