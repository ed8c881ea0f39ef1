import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectRawObject, maskLines, toLines } from './rawObject.js';
import type { Rejection } from './strictJson.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-raw-object-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Function: inspectRawObject', () => {
  it('reports a truncated gzip as unreadable instead of as empty', async () => {
    // Prepare
    const gz = gzipSync(Buffer.from('{"a":1}\n'.repeat(1000)));
    const path = join(dir, 'cut.jsonl.gz');
    await writeFile(path, gz.subarray(0, gz.length / 2));

    // Act
    const info = await inspectRawObject(path, { gzip: true, plain: `${path}.plain` });

    // Assess
    expect(info).toMatchObject({ layout: 'unreadable', lines: 0 });
    expect(info.error).toMatch(/^gzip: /);
  });

  it('reports a gzip that inflates past its limit as unreadable, and leaves none of it on disk', async () => {
    // Prepare: 2 MiB of records in a gzip of some kilobytes
    const path = join(dir, 'bomb.jsonl.gz');
    await writeFile(path, gzipSync(Buffer.from('{"a":1}\n'.repeat(256 * 1024))));

    // Act
    const info = await inspectRawObject(path, {
      gzip: true,
      plain: `${path}.plain`,
      maxPlainBytes: 1024 * 1024,
    });
    const fits = await inspectRawObject(path, {
      gzip: true,
      plain: `${path}.fits`,
      maxPlainBytes: 2 * 1024 * 1024,
    });

    // Assess
    expect(info).toMatchObject({ layout: 'unreadable', lines: 0 });
    expect(info.error).toMatch(/^gzip: it inflates to more than 1 MiB, more than a batch's disk/);
    await expect(stat(`${path}.plain`)).rejects.toThrow(/ENOENT/);
    expect(fits).toMatchObject({ layout: 'lines', lines: 256 * 1024 });
  });

  it.each([
    ['JSON lines with a final newline', '{"a":1}\n{"a":2}\n', 'lines', 2, false, []],
    ['trailing blank lines', '{"a":1}\r\n{"a":2}\r\n\n  \n', 'lines', 2, false, []],
    ['a blank line between records', '{"a":1}\n\n{"a":2}', 'lines', 2, true, []],
    ['indented records', '  {"a":1}\n\t{"a":2} \n', 'lines', 2, false, []],
    [
      'lines that are no objects',
      '42\n{"a": {\n\n {"a":3}\n[{}]\n"}"',
      'lines',
      5,
      true,
      [1, 2, 4, 5],
    ],
    ['an array', '\n [{"a":1},\n{"a":2}]', 'array', 2, false, []],
    ['control characters', '\f{"a":1}\n{"a":2}\v\n\f42\n', 'lines', 3, false, [3]],
    ['JSON lines after a byte order mark', '\uFEFF{"a":1}\n{"a":2}\n', 'lines', 2, false, []],
    ['an array after a byte order mark', '\uFEFF[{"a":1},\n{"a":2}]', 'array', 2, false, []],
    ['only whitespace', ' \n\n', 'empty', 0, false, []],
  ])('finds the layout, the non-blank lines and those no object of %s', async (...row) => {
    // Prepare
    const [name, text, layout, lines, inner, suspect] = row;
    const path = join(dir, `scan-${name.replaceAll(' ', '-')}.json`);
    await writeFile(path, text);

    // Act
    const info = await inspectRawObject(path, { gzip: false, plain: `${path}.plain` });

    // Assess
    expect(info).toEqual({
      path,
      layout,
      lines,
      innerBlankLines: inner,
      sample: [],
      suspect,
      unusual: [],
      longestLine: expect.any(Number),
      bytes: Buffer.byteLength(text),
    });
  });

  it('finds a line that is no object across read chunks', async () => {
    // Prepare: 5 KB lines over 1 MiB chunks; the first broken one straddles the end of a chunk
    const record = JSON.stringify({ pad: 'x'.repeat(5000) });
    const text = Array.from({ length: 600 }, (_, i) =>
      i === 418 || i === 500 ? record.slice(0, -1) : record
    );
    const path = join(dir, 'large-suspect.jsonl');
    await writeFile(path, `${text.join('\n')}\n`);

    // Act
    const info = await inspectRawObject(path, { gzip: false, plain: `${path}.plain` });

    // Assess
    expect(info).toMatchObject({ lines: 600, suspect: [419, 501] });
  });

  it('flags a trailing comma cut by a read chunk, and no comma a chunk merely ends at', async () => {
    // Prepare: the 1,048,576th byte, the first read chunk's last, is a comma in both files
    const pad = 'x'.repeat((1 << 20) - 10);
    const array = join(dir, 'comma-at-chunk-end.json');
    await writeFile(array, `[{"p":"${pad}"},{"a":1}]`);
    const lines = join(dir, 'trailing-comma-across-chunks.jsonl');
    await writeFile(lines, `{"p":"${'x'.repeat((1 << 20) - 16)}"}\n{"a":1,}\n{"a":2}\n`);

    // Act
    const [plain, cut] = [
      await inspectRawObject(array, { gzip: false, plain: `${array}.plain` }),
      await inspectRawObject(lines, { gzip: false, plain: `${lines}.plain` }),
    ];

    // Assess
    expect(plain).toMatchObject({ layout: 'array', unusual: [] });
    expect(cut).toMatchObject({ layout: 'lines', lines: 3, unusual: [2] });
  });

  it('samples the first lines, then one line every so many bytes', async () => {
    // Prepare: 100 lines of 100 bytes each (newline included), over more than one read chunk
    const line = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(88 - String(i).length) });
    const path = join(dir, 'sampled.jsonl');
    await writeFile(path, `${Array.from({ length: 100 }, (_, i) => line(i)).join('\n')}\n`);

    // Act
    const info = await inspectRawObject(path, {
      gzip: false,
      plain: `${path}.plain`,
      sample: { head: 3, everyBytes: 2500, spread: 10 },
    });
    const capped = await inspectRawObject(path, {
      gzip: false,
      plain: `${path}.plain`,
      sample: { head: 0, everyBytes: 1, spread: 4 },
    });

    // Assess: the spread caps the lines of a file that the batch's stride would oversample
    const ids = (lines: Buffer[]) =>
      lines.map((b) => (JSON.parse(b.toString()) as { i: number }).i);
    expect(info.lines).toBe(100);
    expect(ids(info.sample)).toEqual([0, 1, 2, 25, 50, 75]);
    expect(ids(capped.sample)).toEqual([25, 50, 75]);
  });

  it('samples a last line with no newline after it, and lines across read chunks', async () => {
    // Prepare: a one-line file, and lines of 300 KiB, so some cross the 1 MiB chunks, the last
    // with no newline
    const one = join(dir, 'one-line.jsonl');
    await writeFile(one, '{"only":1}');
    const wide = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(300 * 1024) });
    const many = join(dir, 'long-lines.jsonl');
    await writeFile(many, Array.from({ length: 10 }, (_, i) => wide(i)).join('\n'));
    const sample = { head: 100, everyBytes: 1, spread: 100 };

    // Act
    const single = await inspectRawObject(one, { gzip: false, plain: `${one}.plain`, sample });
    const long = await inspectRawObject(many, { gzip: false, plain: `${many}.plain`, sample });

    // Assess
    expect(single.sample.map(String)).toEqual(['{"only":1}']);
    expect(long.sample.map((b) => (JSON.parse(b.toString()) as { i: number }).i)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('samples a document of several MiB on one line, and at most 64 MiB of one file', async () => {
    // Prepare: a 4.7 MB document (caniuse-db's data.json is one), and 20 lines of 5 MiB
    const big = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(5 * 1024 ** 2) });
    const one = join(dir, 'one-document.jsonl');
    await writeFile(one, big(0));
    const many = join(dir, 'many-documents.jsonl');
    await writeFile(many, Array.from({ length: 20 }, (_, i) => big(i)).join('\n'));
    const sample = { head: 100, everyBytes: 1, spread: 100 };

    // Act
    const single = await inspectRawObject(one, { gzip: false, plain: `${one}.plain`, sample });
    const capped = await inspectRawObject(many, { gzip: false, plain: `${many}.plain`, sample });

    // Assess
    expect(single.sample.map((b) => (JSON.parse(b.toString()) as { i: number }).i)).toEqual([0]);
    expect(capped.sample.map((b) => (JSON.parse(b.toString()) as { i: number }).i)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });
});

describe('Function: maskLines', () => {
  it('replaces the given non-blank lines with {} and returns their text and reasons', async () => {
    // Prepare
    const lines = ['{"a":1}', '{"a": 2, "b": {', '42', '{"a":"é"}\r', '  {"a":4}'];
    const path = join(dir, 'mixed.jsonl');
    await writeFile(path, `\n${lines.join('\n')}`);
    const reasons = new Map<number, Rejection>([
      [2, 'not valid JSON'],
      [3, 'not a JSON object'],
    ]);

    // Act
    const rejected = await maskLines(path, `${path}.masked`, (line) => reasons.get(line));
    const masked = await readFile(`${path}.masked`, 'utf8');

    // Assess
    expect(rejected).toEqual([
      { line: 2, text: '{"a": 2, "b": {', reason: 'not valid JSON' },
      { line: 3, text: '42', reason: 'not a JSON object' },
    ]);
    expect(masked).toBe(`\n${['{"a":1}', '{}', '{}', '{"a":"é"}\r', '  {"a":4}'].join('\n')}`);
  });

  it('keeps line boundaries across read chunks in a large file', async () => {
    // Prepare
    const record = JSON.stringify({ pad: 'x'.repeat(5000) });
    const text = Array.from({ length: 600 }, (_, i) => (i === 450 ? '{"broken":' : record));
    const path = join(dir, 'large.jsonl');
    await writeFile(path, `${text.join('\n')}\n`);

    // Act
    const rejected = await maskLines(path, `${path}.masked`, (line) =>
      line === 451 ? 'not valid JSON' : undefined
    );
    const masked = (await readFile(`${path}.masked`, 'utf8')).split('\n');

    // Assess
    expect(rejected).toEqual([{ line: 451, text: '{"broken":', reason: 'not valid JSON' }]);
    expect(masked).toHaveLength(601);
    expect(masked[450]).toBe('{}');
    expect(masked.filter((line) => line === record)).toHaveLength(599);
  });
});

describe('Function: toLines', () => {
  it('writes each element on a line of its own, its bytes as they were but for line breaks', async () => {
    // Prepare: a byte order mark, CRLF, strings holding the bytes that end elements, 1 MiB chunks
    const long = 'x'.repeat(1 << 20);
    const elements = [
      '{\r\n  "a": [1,\n 2],\n  "s": "],\\"{,"\n}',
      '{"b": {"c": "\\\\"}}',
      `{"long": "${long}"}`,
      '{}',
    ];
    const array = join(dir, 'to-lines.json');
    await writeFile(array, `\uFEFF \n[ ${elements.join(' ,\n\t')}\r\n]\n \n`);
    const out = join(dir, 'to-lines.jsonl');

    // Act
    const rewritten = await toLines(array, out, 'array');

    // Assess
    expect(rewritten).toBe(true);
    const lines = (await readFile(out, 'utf8')).split('\n');
    expect(lines).toEqual([
      '{    "a": [1,  2],   "s": "],\\"{," } ',
      '{"b": {"c": "\\\\"}} ',
      `{"long": "${long}"} `,
      '{}  ',
      '',
    ]);
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual(
      elements.map((element) => JSON.parse(element))
    );
  });

  it.each([
    ['an empty array', '[]'],
    ['a trailing comma', '[{"a":1},]'],
    ['an element left out', '[{"a":1},,{"a":2}]'],
    ['a truncated array', '[{"a":1},{"a"'],
    ['text after the array', '[{"a":1}] {"a":2}'],
    ['a first element that is an array', '[[{"a":1}]]'],
    ['a first element that is no object', '[5, {"a":1}]'],
    ['a line break inside a string', '[{"a":"x\ny"}]'],
    ['a bracket closing too soon', '[{"a":1}}]'],
  ])('leaves %s to the array reader, and no file behind', async (name, text) => {
    // Prepare
    const array = join(dir, `not-lines-${name.replaceAll(' ', '-')}.json`);
    await writeFile(array, text);
    const out = `${array}l`;

    // Act
    const rewritten = await toLines(array, out, 'array');

    // Assess
    expect(rewritten).toBe(false);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('writes objects one after another over many lines each on a line of its own, in their order', async () => {
    // Prepare: pretty-printed documents, as a package.json or a saved API response is written,
    // one right after another, a byte order mark and CRLF, strings holding braces
    const documents = [
      '{\r\n  "name": "a",\r\n  "deps": {"x": "^1"},\r\n  "s": "}{\\""\r\n}',
      '{"b": [1,\n 2]}',
      '{\n}',
    ];
    const path = join(dir, 'objects.json');
    await writeFile(path, `\uFEFF\n${documents[0]}\n\n${documents[1]}${documents[2]}\n`);
    const out = join(dir, 'objects.jsonl');

    // Act
    const rewritten = await toLines(path, out, 'objects');

    // Assess
    expect(rewritten).toBe(true);
    const lines = (await readFile(out, 'utf8')).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).map((line) => JSON.parse(line))).toEqual(
      documents.map((document) => JSON.parse(document))
    );
    expect(lines[3]).toBe('');
  });

  it.each([
    ['a first line that is broken', '{"a":\n{"b":1}\n'],
    ['a line break inside a string', '{\n "a": "x\ny"\n}'],
    ['a scalar between objects', '{"a":1}\n5\n{"b":2}'],
    ['an array at the top', '{"a":1}\n[{"b":2}]'],
    ['a truncated object', '{\n "a": {"b": 1}\n'],
    ['a bracket closing too soon', '{"a":1}}'],
  ])('leaves %s to the line-by-line reader, and no file behind', async (name, text) => {
    // Prepare
    const path = join(dir, `not-objects-${name.replaceAll(' ', '-')}.json`);
    await writeFile(path, text);
    const out = `${path}l`;

    // Act
    const rewritten = await toLines(path, out, 'objects');

    // Assess
    expect(rewritten).toBe(false);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });
});
