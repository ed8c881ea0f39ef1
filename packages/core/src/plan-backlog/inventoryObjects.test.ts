import { describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import { decodeInventoryKey, parseCsvLine } from './inventoryObjects.js';

describe('Function: parseCsvLine', () => {
  it.each([
    ['"b","raw%2Fa.json","12"', ['b', 'raw%2Fa.json', '12']],
    ['"say ""hi""",plain,', ['say "hi"', 'plain', '']],
    ['"a,b",""', ['a,b', '']],
  ])('splits %s into its fields', (line, expected) => {
    // Act
    const fields = parseCsvLine(line);

    // Assess
    expect(fields).toEqual(expected);
  });

  it('refuses an unterminated quote', () => {
    // Act
    const attempt = () => parseCsvLine('"b","raw/a.json');

    // Assess
    expect(attempt).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
  });
});

describe('Function: decodeInventoryKey', () => {
  it('turns + into a space and %2B into a plus', () => {
    // Act
    const key = decodeInventoryKey('raw%2Fclicks%2Fa%2Bb+%281%29+caf%C3%A9.json');

    // Assess
    expect(key).toBe('raw/clicks/a+b (1) café.json');
  });

  it('refuses a malformed escape', () => {
    // Act
    const attempt = () => decodeInventoryKey('raw%2');

    // Assess
    expect(attempt).toThrow(expect.objectContaining({ name: ErrorName.BadInput }));
  });
});
