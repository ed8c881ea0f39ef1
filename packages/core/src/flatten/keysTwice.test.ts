import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysTwice, type RecordLayout } from './keysTwice.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keys-twice-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const twiceIn = async (text: string | Buffer, layout: RecordLayout) => {
  const path = join(dir, `f-${Math.random().toString(36).slice(2)}`);
  await writeFile(path, text);
  return [...(await keysTwice(path, layout))].sort((a, b) => a - b);
};

describe('Function: keysTwice', () => {
  it('numbers JSON Lines records by their line, blank lines counted, at any depth', async () => {
    const lines = [
      '{"a":1,"b":{"c":1}}',
      '',
      '{"a":1,"a":2}',
      '{"a":1,"b":{"c":1,"c":2}}',
      '  ',
      '{"a":1,"b":[{"c":1},{"c":2}]}',
      '{"a":1,"b":[{"c":1,"c":2}]}',
      '{"a":"x","b":"a","c":{"a":1}}',
    ];

    expect(await twiceIn(lines.join('\n'), 'jsonl')).toEqual([3, 4, 7]);
  });

  it('compares keys as the strings they denote, and reads quotes, braces and escapes in strings as text', async () => {
    const lines = [
      '{"a":1,"\\u0061":2}',
      '{"a\\"b":1,"a\\\\":2,"{\\"a\\":1}":3,"x":"{\\"a\\":1,\\"a\\":2}"}',
      '{"é":1,"\\u00e9":2}',
      '{"broken',
      '{"a":1,"a',
    ];

    expect(await twiceIn(lines.join('\r\n'), 'jsonl')).toEqual([1, 3]);
  });

  it('numbers an array’s elements and documents by their place, scalars among them', async () => {
    const array = '\uFEFF[ {"a":1}, 7, "s", [1, 2],\n {"b":{"c":1,"c":2}}, null, {"d":1,"d":1} ]';
    const documents =
      '\uFEFF{"a":1}\n5 "x"\n{\n  "b": 1,\n  "b": 2\n}\n[{"c":1,"c":2}]{"e":{"f":1,"f":2}}';

    expect(await twiceIn(array, 'array')).toEqual([5, 7]);
    expect(await twiceIn(documents, 'documents')).toEqual([4, 5, 6]);
  });

  it('finds a key cut by the end of a read', async () => {
    const pad = 'x'.repeat((1 << 20) - 12);
    const text = `{"p":"${pad}","key-across":1,"key-across":2}\n{"key-across":1}`;

    expect(await twiceIn(text, 'jsonl')).toEqual([1]);
  });
});
