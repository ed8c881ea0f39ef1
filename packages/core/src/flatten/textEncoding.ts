import { isUtf8 } from 'node:buffer';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/*
 * JSON is UTF-8 on the wire (RFC 8259 §8.1), and DuckDB reads nothing else. Text in UTF-16 or
 * UTF-32 that says so with a byte order mark is decoded to UTF-8 before anything reads it; any
 * other bytes that are not UTF-8 (Latin-1, PNG, UTF-16 without a mark) make the object one to
 * quarantine, named by what was found, since no reader here can tell its records apart.
 */

/** UTF-8's byte order mark, which readers here skip as DuckDB's does. */
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The byte order marks decoded, UTF-32LE's before UTF-16LE's, which it opens with. */
const MARKS = [
  { encoding: 'UTF-32LE', bytes: [0xff, 0xfe, 0x00, 0x00] },
  { encoding: 'UTF-32BE', bytes: [0x00, 0x00, 0xfe, 0xff] },
  { encoding: 'UTF-16LE', bytes: [0xff, 0xfe] },
  { encoding: 'UTF-16BE', bytes: [0xfe, 0xff] },
] as const;

/** An encoding a byte order mark names, which is decoded to UTF-8. */
export type MarkedEncoding = (typeof MARKS)[number]['encoding'];

/**
 * The encoding the file's byte order mark names, if it is UTF-16 or UTF-32.
 *
 * @param path - the file
 */
export const markedEncoding = async (path: string): Promise<MarkedEncoding | undefined> => {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(4), position: 0 });
    return MARKS.find(
      ({ bytes }) => bytesRead >= bytes.length && bytes.every((byte, i) => buffer[i] === byte)
    )?.encoding;
  } finally {
    await handle.close();
  }
};

/** Decodes UTF-32 (TextDecoder has no UTF-32), failing on what is no Unicode scalar value. */
const utf32Decoder = (littleEndian: boolean) => {
  let rest = Buffer.alloc(0);
  let skip = 4;
  return {
    decode(chunk: Buffer, end: boolean): string {
      const bytes = Buffer.concat([rest, chunk]);
      const whole = bytes.length - (bytes.length % 4);
      const characters: string[] = [];
      for (let i = skip; i < whole; i += 4) {
        const code = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
          throw new Error(`0x${code.toString(16)} is no Unicode character`);
        characters.push(String.fromCodePoint(code));
      }
      skip = Math.max(0, skip - whole);
      rest = Buffer.from(bytes.subarray(whole));
      if (end && rest.length > 0) throw new Error('the text ends inside a character');
      return characters.join('');
    },
  };
};

/**
 * Writes the text of a file in UTF-16 or UTF-32 (its byte order mark left out) as UTF-8; fails
 * on bytes that are no text in that encoding (a lone surrogate…).
 *
 * @param from - the file, opening with its byte order mark
 * @param to - where the UTF-8 text goes
 * @param encoding - what its mark names
 */
export const decodeToUtf8 = async (
  from: string,
  to: string,
  encoding: MarkedEncoding
): Promise<void> => {
  const decoder = encoding.startsWith('UTF-32')
    ? utf32Decoder(encoding === 'UTF-32LE')
    : (() => {
        const text = new TextDecoder(encoding.toLowerCase(), { fatal: true });
        return {
          decode: (chunk: Buffer, end: boolean) => text.decode(chunk, { stream: !end }),
        };
      })();
  await pipeline(
    createReadStream(from),
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        try {
          done(null, Buffer.from(decoder.decode(chunk, false), 'utf8'));
        } catch (error) {
          done(error as Error);
        }
      },
      flush(done) {
        try {
          done(null, Buffer.from(decoder.decode(Buffer.alloc(0), true), 'utf8'));
        } catch (error) {
          done(error as Error);
        }
      },
    }),
    createWriteStream(to)
  );
};

/** Where the first byte of `bytes` that cannot start or continue UTF-8 text is. */
const firstInvalid = (bytes: Buffer): number => {
  for (let i = 0; i < bytes.length; ) {
    const byte = bytes[i] as number;
    const length =
      byte < 0x80 ? 1 : byte < 0xc2 ? 0 : byte < 0xe0 ? 2 : byte < 0xf0 ? 3 : byte < 0xf5 ? 4 : 0;
    if (length === 0 || !isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return bytes.length;
};

/**
 * A check, chunk by chunk, that bytes are UTF-8 text: every chunk is valid UTF-8 (a character
 * cut at a chunk's end is checked with the next) and holds no NUL, which no JSON text does (a
 * NUL inside a string is written `\u0000`). Returns why the text is not, or nothing.
 *
 * @example
 * ```ts
 * const check = utf8Check();
 * for await (const chunk of stream) if (check(chunk)) break;
 * check(undefined); // at the end: a character cut off by the end of the file
 * ```
 */
export const utf8Check = () => {
  let carry = Buffer.alloc(0);
  let offset = 0;
  return (chunk: Buffer | undefined): string | undefined => {
    if (chunk === undefined) {
      return carry.length > 0 ? `not UTF-8 text: it ends inside a character` : undefined;
    }
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const start = offset - carry.length;
    // A multi-byte character cut by the chunk's end waits for the rest.
    let cut = bytes.length;
    for (let back = 1; back <= Math.min(3, bytes.length); back++) {
      const byte = bytes[bytes.length - back] as number;
      if (byte >= 0x80 && byte < 0xc0) continue;
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      if (length > back) cut = bytes.length - back;
      break;
    }
    const whole = bytes.subarray(0, cut);
    offset += chunk.length;
    carry = Buffer.from(bytes.subarray(cut));
    const nul = whole.indexOf(0);
    if (!isUtf8(whole)) {
      const at = firstInvalid(whole);
      if (nul < 0 || at < nul) {
        return `not UTF-8 text: byte 0x${(whole[at] as number).toString(16).toUpperCase()} at offset ${start + at} (Latin-1 or another single-byte encoding, or binary data?)`;
      }
    }
    if (nul >= 0) {
      return `binary, not text: a NUL byte at offset ${start + nul} (or UTF-16/32 text without a byte order mark)`;
    }
    return undefined;
  };
};
