import { describe, expect, it } from 'vitest';
import { failureReason, formatBytes, parseSize } from './format.js';

describe('Function: parseSize', () => {
  it.each([
    ['256KB', 256 * 1024],
    ['16MB', 16 * 1024 ** 2],
    ['1.5gb', 1.5 * 1024 ** 3],
    ['4096', 4096],
    [' 2 MB ', 2 * 1024 ** 2],
  ])('reads %s', (text, bytes) => {
    // Act
    const size = parseSize(text);

    // Assess
    expect(size).toBe(bytes);
  });

  it.each(['', 'MB', '16TB', '-1MB', 'lots'])('rejects "%s"', (text) => {
    // Act
    const size = parseSize(text);

    // Assess
    expect(size).toBeUndefined();
  });
});

describe('Function: formatBytes', () => {
  it('picks the unit that reads best', () => {
    // Act
    const printed = [192 * 1024, 16 * 1024 ** 2, 1536 * 1024 ** 2].map(formatBytes);

    // Assess
    expect(printed).toEqual(['192 KB', '16.0 MB', '1.5 GB']);
  });
});

describe('Function: failureReason', () => {
  it('unwraps the Lambda error envelope and keeps any other cause as it is', () => {
    // Act
    const reasons = [
      failureReason(JSON.stringify({ errorType: 'Strata.BadInput', errorMessage: 'feed: bad' })),
      failureReason('plain text'),
    ];

    // Assess
    expect(reasons).toEqual(['feed: bad', 'plain text']);
  });
});
