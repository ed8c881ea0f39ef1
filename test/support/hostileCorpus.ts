import { gzipSync } from 'node:zlib';

/*
 * The hostile corpus: small raw objects that break JSON pipelines, one class each, with what the
 * lake must make of them (docs/hostile-corpus.md lists them). Every class is judged leaf by leaf
 * in test/hostileCorpus.test.ts: each record's values are found again exactly in its row, or the
 * record, the line or the object is in quarantine with a reason.
 */

/** One class of hostile input and the outcome the lake owes it. */
export interface HostileClass {
  name: string;
  /** Object names (under the class's prefix) and their bytes; `.gz` names are gzip. */
  files: Record<string, string | Buffer>;
  /** Rows written, lines (or elements) quarantined, objects quarantined whole. */
  expect: { rows: number; lines: number; objects: number };
  /** The longest line a record may be, when the class needs a small one. */
  maxRecordBytes?: number;
}

const lines = (...records: readonly unknown[]) =>
  `${records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n')}\n`;

const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
const utf32 = (text: string, littleEndian: boolean) =>
  Buffer.concat(
    Array.from(text, (character) => {
      const bytes = Buffer.alloc(4);
      const code = character.codePointAt(0) as number;
      if (littleEndian) bytes.writeUInt32LE(code);
      else bytes.writeUInt32BE(code);
      return bytes;
    })
  );

const TEXT = '{"id":1,"s":"é😀 ok"}\n{"id":2,"s":"日本"}\n';
const PNG = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
]);
const deep = (depth: number): unknown =>
  depth === 0 ? { v: 1, s: 'leaf' } : { a: deep(depth - 1) };
const big = (bytes: number) => ({ id: 1, pad: 'x'.repeat(bytes) });
const cut = (gz: Buffer) => gz.subarray(0, Math.floor(gz.length / 2));

/** The corpus. */
export const HOSTILE_CLASSES: readonly HostileClass[] = [
  {
    name: 'plain-json-lines',
    files: { 'a.jsonl': lines({ id: 1, name: 'x' }, { id: 2, name: 'y' }) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'utf8-byte-order-mark',
    files: { 'a.jsonl': `\uFEFF${lines({ id: 1 }, { id: 2 })}` },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'crlf',
    files: { 'a.jsonl': '{"id":1}\r\n{"id":2}\r\n' },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'blank-lines',
    files: { 'a.jsonl': '{"id":1}\n\n  \n{"id":2}\n\t\n{"id":3}' },
    expect: { rows: 3, lines: 0, objects: 0 },
  },
  {
    name: 'mixed-line-ends',
    files: { 'a.jsonl': '{"id":1}\r\n{"id":2}\n\n{"id":3}\r\n' },
    expect: { rows: 3, lines: 0, objects: 0 },
  },
  {
    name: 'empty-file',
    files: { 'a.jsonl': '' },
    expect: { rows: 0, lines: 0, objects: 0 },
  },
  {
    name: 'only-whitespace',
    files: { 'a.jsonl': ' \n\t\n\r\n' },
    expect: { rows: 0, lines: 0, objects: 0 },
  },
  {
    name: 'truncated-last-line',
    files: { 'a.jsonl': '{"id":1}\n{"id":2,"name":"ab' },
    expect: { rows: 1, lines: 1, objects: 0 },
  },
  {
    name: 'truncated-gzip',
    files: {
      'a.jsonl.gz': cut(gzipSync(lines(...Array.from({ length: 200 }, (_, id) => ({ id }))))),
    },
    expect: { rows: 0, lines: 0, objects: 1 },
  },
  {
    name: 'gzip-of-empty-file',
    files: { 'a.jsonl.gz': gzipSync('') },
    expect: { rows: 0, lines: 0, objects: 0 },
  },
  {
    name: 'concatenated-gzip-members',
    files: {
      'a.jsonl.gz': Buffer.concat([gzipSync(lines({ id: 1 })), gzipSync(lines({ id: 2 }))]),
    },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'json-array-file',
    files: { 'a.json': JSON.stringify([{ id: 1 }, { id: 2, tags: ['a'] }]) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'json-array-of-mixed-elements',
    files: { 'a.json': '[{"id":1}, 5, "x", [1]]' },
    expect: { rows: 1, lines: 3, objects: 0 },
  },
  {
    name: 'pretty-printed-document',
    files: { 'a.json': JSON.stringify({ id: 1, user: { name: 'x', tags: [1, 2] } }, null, 2) },
    expect: { rows: 1, lines: 0, objects: 0 },
  },
  {
    name: 'several-documents',
    files: {
      'a.json': `${JSON.stringify({ id: 1, o: { a: 1 } }, null, 2)}\n${JSON.stringify({ id: 2 }, null, 2)}\n`,
    },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'deep-nesting',
    files: { 'a.jsonl': lines(deep(60), { a: { a: 'shallow' } }) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'wide-object',
    files: {
      'a.jsonl': lines(
        Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`k${i}`, i % 3 ? i : `v${i}`])),
        { k0: 'only one' }
      ),
    },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'duplicate-keys',
    files: { 'a.jsonl': '{"a":1,"a":2}\n{"a":3}\n{"b":{"c":1,"c":2}}\n' },
    expect: { rows: 1, lines: 2, objects: 0 },
  },
  {
    name: 'keys-differing-only-in-case',
    files: { 'a.jsonl': lines({ Name: 1, name: 2, NAME: 3 }, { name: 4 }) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'unicode-keys-and-emoji',
    files: {
      'a.jsonl': lines(
        { 日本: '語', '😀': '🎉', ké: 'é', esc: 'x' },
        '{"esc":"\\ud83d\\ude00 \\u00e9","Ω":{"ü":1}}'
      ),
    },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'lone-surrogates',
    files: { 'a.jsonl': '{"a":"\\ud800"}\n{"\\udc00":1}\n{"a":"ok"}\n' },
    expect: { rows: 1, lines: 2, objects: 0 },
  },
  {
    name: 'control-characters',
    files: {
      'a.jsonl': lines(
        { 'a\nb': 'x\ty', c: '\u0001\u001f', 'd\u0007': 'bell', o: { 'k\r': '\b' } },
        '{"a":"x\ty"}',
        { c: 'plain' }
      ),
    },
    expect: { rows: 2, lines: 1, objects: 0 },
  },
  {
    name: 'nul-in-strings',
    files: {
      'a.jsonl': lines({ a: 'x\u0000y', o: { '\u0000': 1, k: 'v\u0000' } }, { a: 'plain' }),
    },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'very-long-string',
    files: { 'a.jsonl': lines({ id: 1, s: 'é'.repeat(600_000) }, { id: 2, s: 'short' }) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'huge-and-small-numbers',
    files: {
      'a.jsonl': [
        '{"n":1e400}',
        '{"n":1e-400}',
        '{"n":-0}',
        '{"n":-0.0}',
        '{"n":0.30000000000000004}',
        '{"n":1E5}',
        '{"n":1.50}',
        '{"n":5e-324}',
        '{"n":1.000000000000000000001}',
        '{"n":[1e-400]}',
        // 18 significant digits, most of them before the point.
        '{"n":1234567890.12345678}',
      ].join('\n'),
    },
    expect: { rows: 6, lines: 5, objects: 0 },
  },
  {
    name: 'integers-past-2^53',
    files: {
      'a.jsonl': [
        '{"n":9223372036854775807}',
        '{"n":18446744073709551615}',
        '{"n":123456789012345678901234567890}',
        '{"n":1.5}',
        '{"n":-9223372036854775808}',
        '{"n":9007199254740993}',
        '{"n":[9223372036854775807, 123456789012345678901234567890]}',
      ].join('\n'),
    },
    expect: { rows: 7, lines: 0, objects: 0 },
  },
  {
    name: 'integers-past-2^53-in-a-double-column',
    files: {
      'a.jsonl': lines(
        '{"n":9223372036854775807}',
        '{"n":1.5}',
        '{"n":9007199254740993}',
        '{"n":-7}'
      ),
    },
    expect: { rows: 4, lines: 0, objects: 0 },
  },
  {
    name: 'mixed-kinds-per-field',
    files: {
      'a.jsonl': lines(
        { v: 1 },
        { v: '1' },
        { v: true },
        { v: null },
        { v: { a: 1 } },
        { v: [1] },
        { v: 1.5 }
      ),
    },
    expect: { rows: 7, lines: 0, objects: 0 },
  },
  {
    name: 'arrays-of-arrays',
    files: {
      'a.jsonl': lines(
        {
          m: [
            [1, 2],
            [3, [4, []]],
          ],
        },
        { m: [[]] }
      ),
    },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'empty-arrays-and-objects',
    files: { 'a.jsonl': lines({ o: {}, a: [] }, { o: {}, a: [], n: { e: {} } }) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'null-missing-and-empty-object',
    files: {
      'a.jsonl': lines(
        { u: { n: 1, v: { w: 2 } } },
        { u: {} },
        { u: null },
        {},
        { u: { n: null } },
        { u: { v: {} } },
        { u: { v: null, n: 3 } }
      ),
      // The same, line by line (a blank line between records).
      'b.jsonl': `\n${lines({ u: { n: 1, v: { w: 2 } } }, { u: {} }, { u: null }, { u: { v: {} } })}\n{}`,
    },
    expect: { rows: 12, lines: 0, objects: 0 },
  },
  {
    name: 'prototype-keys',
    files: {
      'a.jsonl': lines(
        '{"__proto__":{"x":1},"constructor":"c","toString":"t","hasOwnProperty":1,"valueOf":{"a":1}}',
        '{"__proto__":2,"o":{"__proto__":3,"toString":4}}'
      ),
    },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'sql-ish-keys',
    files: {
      'a.jsonl': lines({ '"; drop table x; --': 1, select: 2, "a'b": 3, from: { where: 4 } }),
    },
    expect: { rows: 1, lines: 0, objects: 0 },
  },
  {
    name: 'keys-with-dots-quotes-backslashes',
    files: {
      'a.jsonl': lines({
        'a.b': 1,
        'q"uote': 2,
        'back\\slash': 3,
        $: 4,
        o: { '*': 5, '': 6, 'x.y': 7, '$.z': 8 },
      }),
    },
    expect: { rows: 1, lines: 0, objects: 0 },
  },
  {
    name: 'top-level-keys-no-path-reaches',
    files: { 'a.jsonl': lines({ '': 1, a: 1 }, { '*': 2 }, { a: 3 }) },
    expect: { rows: 1, lines: 2, objects: 0 },
  },
  {
    name: 'fields-named-like-partitions-and-lineage',
    files: {
      'a.jsonl': lines({
        year: 1999,
        month: 'x',
        _variant: 'v',
        file_index: 3,
        _source_key: 's',
        mode: 'm',
        _batch_id: 1,
        DATE: '2024-01-02',
        MODE: 'web',
      }),
    },
    expect: { rows: 1, lines: 0, objects: 0 },
  },
  {
    name: 'date-field-of-odd-kinds',
    files: {
      'a.jsonl': lines(
        { DATE: 20240102 },
        { DATE: { y: 2024 } },
        { DATE: null },
        { DATE: 'not a date' },
        { DATE: '2024-02-30' },
        { DATE: '2024-01-02', MODE: 7 }
      ),
    },
    expect: { rows: 6, lines: 0, objects: 0 },
  },
  {
    name: 'numbers-as-strings',
    files: { 'a.jsonl': lines({ n: 5 }, { n: '5' }, { n: '1e5' }, { n: ' 7 ' }, { n: 'NaN' }) },
    expect: { rows: 5, lines: 0, objects: 0 },
  },
  {
    name: 'booleans-as-strings',
    files: { 'a.jsonl': lines({ b: true }, { b: 'true' }, { b: 'FALSE' }, { b: 0 }) },
    expect: { rows: 4, lines: 0, objects: 0 },
  },
  {
    name: 'trailing-commas',
    files: { 'a.jsonl': '{"a":1,}\n{"a":[1, ]}\n{"a":2}\n' },
    expect: { rows: 1, lines: 2, objects: 0 },
  },
  {
    name: 'nan-and-infinity',
    files: { 'a.jsonl': '{"a":NaN}\n{"a":Infinity}\n{"a":[-Infinity]}\n{"a":"NaN"}\n' },
    expect: { rows: 1, lines: 3, objects: 0 },
  },
  {
    name: 'comments',
    files: { 'a.jsonl': '{"a":1} // c\n{"a":/* c */2}\n{"a":3}\n' },
    expect: { rows: 1, lines: 2, objects: 0 },
  },
  {
    name: 'single-quotes',
    files: { 'a.jsonl': `{'a':1}\n{"a":'x'}\n{"a":2}\n` },
    expect: { rows: 1, lines: 2, objects: 0 },
  },
  {
    name: 'lines-that-are-no-objects',
    files: { 'a.jsonl': '{"a":1}\n42\n[1]\n"x"\nnull\ntrue\n' },
    expect: { rows: 1, lines: 5, objects: 0 },
  },
  {
    name: 'whitespace-around-records',
    files: { 'a.jsonl': '  {"a":1}  \n\t{"a":2}\t\n' },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'raw-carriage-return-in-a-string',
    files: { 'a.jsonl': '{"a":"x\ry"}\n{"a":1}\n' },
    expect: { rows: 1, lines: 1, objects: 0 },
  },
  {
    name: 'binary-bytes-named-jsonl',
    files: { 'a.jsonl': PNG, 'b.jsonl': lines({ id: 1 }) },
    expect: { rows: 1, lines: 0, objects: 1 },
  },
  {
    name: 'utf16le-with-byte-order-mark',
    files: { 'a.jsonl': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')]) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'utf16be-with-byte-order-mark',
    files: { 'a.jsonl': Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)]) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'utf32le-with-byte-order-mark',
    files: { 'a.jsonl': Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), utf32(TEXT, true)]) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'utf32be-with-byte-order-mark',
    files: {
      'a.json': Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), utf32('[{"id":1}]', false)]),
    },
    expect: { rows: 1, lines: 0, objects: 0 },
  },
  {
    name: 'utf16-without-byte-order-mark',
    files: { 'a.jsonl': Buffer.from(TEXT, 'utf16le'), 'b.jsonl': lines({ id: 3 }) },
    expect: { rows: 1, lines: 0, objects: 1 },
  },
  {
    name: 'latin1-bytes',
    files: { 'a.jsonl': Buffer.from('{"name":"café"}\n', 'latin1'), 'b.jsonl': lines({ id: 3 }) },
    expect: { rows: 1, lines: 0, objects: 1 },
  },
  {
    name: 'line-over-the-record-limit',
    files: { 'a.jsonl': lines(big(300_000), { id: 2 }), 'b.jsonl': lines({ id: 3 }) },
    maxRecordBytes: 256 * 1024,
    expect: { rows: 1, lines: 0, objects: 1 },
  },
  {
    name: 'record-past-line-readers-default-line-by-line',
    files: { 'a.jsonl': `${JSON.stringify(big(2_500_000))}\n\n{"id":2}\n` },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
  {
    name: 'record-past-line-readers-default-in-one-read',
    files: { 'a.jsonl': lines(big(2_500_000), { id: 2 }) },
    expect: { rows: 2, lines: 0, objects: 0 },
  },
];
