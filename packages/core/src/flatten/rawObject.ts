import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** What a downloaded raw object looks like before DuckDB reads it. */
export interface RawObjectInfo {
  /** The plain (inflated) file. */
  path: string;
  /**
   * `array` when the first non-blank character is `[`; `lines` otherwise (JSON Lines, or one or
   * more documents that the slow path tells apart); `empty`; `unreadable` with an error.
   */
  layout: 'lines' | 'array' | 'empty' | 'unreadable';
  /** Lines holding anything but whitespace. */
  lines: number;
  /** A blank line sits between two non-blank ones, so record numbers are not line numbers. */
  innerBlankLines: boolean;
  /** The lines {@link SampleOptions} picked, for a first look at the records' structure. */
  sample: Buffer[];
  /**
   * Non-blank lines (numbered among them) that cannot hold a JSON object: they do not start
   * with `{` and end with `}`. Not every line that does is an object.
   */
  suspect: number[];
  error?: string;
}

/**
 * Which lines a scan keeps as a sample: the first few, then one every so many bytes, but no
 * more than about `spread` from one file (a gzip's planned size understates its text).
 */
export interface SampleOptions {
  head: number;
  everyBytes: number;
  spread: number;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const isSpace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

/** Passes bytes on, and fails once more than `max` have passed. */
const atMost = (max: number) => {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen <= max) return done(null, chunk);
      const [size, unit] = max >= 1024 ** 3 ? [max / 1024 ** 3, 'GiB'] : [max / 1024 ** 2, 'MiB'];
      done(
        new Error(
          `it inflates to more than ${size.toLocaleString('en-US')} ${unit}, more than a batch's disk holds (gzip objects are not split; JSON Lines objects are read in byte ranges)`
        )
      );
    },
  });
};

/**
 * Inflates a gzip object (DuckDB returns nothing, rather than failing, for a truncated gzip, so
 * Node does it and reports the damage) and scans it once for its layout and line counts, which
 * the fast path checks DuckDB's record counts against, keeping a sample of lines on the way
 * (DuckDB would read the whole file again to spread one over it).
 *
 * @param local - the downloaded object
 * @param options - whether it is gzip, where the inflated copy goes and how large it may grow,
 *   and which lines to sample
 */
export const inspectRawObject = async (
  local: string,
  options: { gzip: boolean; plain: string; maxPlainBytes?: number; sample?: SampleOptions }
): Promise<RawObjectInfo> => {
  let path = local;
  if (options.gzip) {
    try {
      await pipeline(
        createReadStream(local),
        createGunzip(),
        atMost(options.maxPlainBytes ?? Number.POSITIVE_INFINITY),
        createWriteStream(options.plain)
      );
      path = options.plain;
    } catch (error) {
      // What was inflated of it would only crowd the rest of the batch out of the disk.
      await rm(options.plain, { force: true });
      const message = `gzip: ${(error as Error).message}`;
      return {
        path,
        layout: 'unreadable',
        lines: 0,
        innerBlankLines: false,
        sample: [],
        suspect: [],
        error: message,
      };
    }
  }
  let lines = 0;
  let first: number | undefined;
  let lineHasText = false;
  /** The current line's first and last bytes other than whitespace. */
  let lineFirst = 0;
  let lineLast = 0;
  const suspect: number[] = [];
  const endLine = () => {
    lines++;
    // A line that opens or closes with a control character (a form feed…) is DuckDB's to judge.
    const opens = lineFirst === 0x7b || lineFirst < 0x20;
    const closes = lineLast === 0x7d || lineLast < 0x20;
    if (!opens || !closes) suspect.push(lines);
  };
  /** The last byte other than whitespace in chunk[from, to), or `fallback`. */
  const lastText = (chunk: Buffer, from: number, to: number, fallback: number) => {
    for (let j = to - 1; j >= from; j--)
      if (!isSpace(chunk[j] as number)) return chunk[j] as number;
    return fallback;
  };
  let blankSinceText = false;
  let innerBlankLines = false;
  const sample: Buffer[] = [];
  const { head = 0, spread = 0 } = options.sample ?? {};
  const everyBytes = options.sample
    ? Math.max(options.sample.everyBytes, (await stat(path)).size / spread)
    : Number.POSITIVE_INFINITY;
  let sampleFrom = everyBytes;
  /** Keeps the line at [start, end) of the chunk read at `offset` if the sample wants it. */
  const sampled = (chunk: Buffer, offset: number, start: number, end: number) => {
    if (lines >= head && offset + start < sampleFrom) return;
    sample.push(Buffer.from(chunk.subarray(start, end)));
    if (lines >= head) sampleFrom = offset + start + everyBytes;
  };
  const sawText = (byte: number) => {
    lineHasText = true;
    lineFirst = byte;
    if (blankSinceText) innerBlankLines = true;
    first ??= byte;
  };
  let offset = 0;
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    // A byte order mark opens the text, as DuckDB's reader takes it, not the first line.
    const from = offset === 0 && chunk.subarray(0, 3).equals(UTF8_BOM) ? UTF8_BOM.length : 0;
    if (offset === 0 && chunk.length > from && !isSpace(chunk[from] as number)) {
      const end = chunk.indexOf(0x0a);
      if (end >= 0) sampled(chunk, offset, from, end);
    }
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === 0x0a) {
        if (lineHasText) endLine();
        else if (lines > 0) blankSinceText = true;
        lineHasText = false;
        // Most lines are long records starting with text: jump to the next newline natively.
        const start = chunk[i + 1];
        if (start !== undefined && !isSpace(start)) {
          sawText(start);
          const next = chunk.indexOf(0x0a, i + 1);
          lineLast = lastText(chunk, i + 1, next < 0 ? chunk.length : next, start);
          if (next < 0) break;
          sampled(chunk, offset, i + 1, next);
          i = next - 1;
        }
      } else if (!isSpace(byte)) {
        if (!lineHasText) sawText(byte);
        lineLast = byte;
      }
    }
    offset += chunk.length;
  }
  if (lineHasText) endLine();
  const layout = first === undefined ? 'empty' : first === 0x5b ? 'array' : 'lines';
  const isLines = layout === 'lines';
  return {
    path,
    layout,
    lines,
    innerBlankLines,
    sample: isLines ? sample : [],
    suspect: isLines ? suspect : [],
  };
};

/** Why a line of a JSON Lines file holds no record. */
export type Rejection = 'not valid JSON' | 'not a JSON object';

/**
 * Why a line holds no record, as JSON.parse judges it (control characters around the value
 * aside, as DuckDB's reader takes them); none when it holds a JSON object.
 *
 * @example
 * ```ts
 * rejectionOf('[6]'); // 'not a JSON object'
 * rejectionOf('{"id": 4, "user": {'); // 'not valid JSON'
 * ```
 *
 * @param text - the line
 */
export const rejectionOf = (text: string): Rejection | undefined => {
  try {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: those are the characters trimmed
    const value: unknown = JSON.parse(text.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? undefined
      : 'not a JSON object';
  } catch {
    return 'not valid JSON';
  }
};

/** A line of a JSON Lines file that holds no record, and why. */
export interface RejectedLine {
  /** Its place among the file's non-blank lines, as the fast path numbers records. */
  line: number;
  text: string;
  reason: Rejection;
}

/**
 * Copies a JSON Lines file with the given lines replaced by `{}`, and returns those lines'
 * text: DuckDB's reader then takes the file in one pass (it stops at a malformed line), line
 * numbers stay as they were, and the batch leaves the masked rows out. Lines end at `\n` only,
 * as DuckDB's reader and {@link inspectRawObject} split them.
 *
 * @param plain - the (inflated) JSON Lines file
 * @param masked - where the copy goes
 * @param reasonOf - why a line (numbered among the non-blank lines) holds no record; none: kept
 */
export const maskLines = async (
  plain: string,
  masked: string,
  reasonOf: (line: number, bytes: Buffer) => Rejection | undefined
): Promise<RejectedLine[]> => {
  const rejected: RejectedLine[] = [];
  const out = createWriteStream(masked);
  const finished = once(out, 'finish');
  let line = 0;
  /** Whether a line is masked; its text goes to `rejected` then. */
  const masks = (bytes: Buffer) => {
    if (!bytes.some((byte) => !isSpace(byte))) return false;
    line++;
    const reason = reasonOf(line, bytes);
    if (reason) rejected.push({ line, text: bytes.toString('utf8'), reason });
    return reason !== undefined;
  };
  const write = async (data: Buffer | string) => {
    if (!out.write(data)) await once(out, 'drain');
  };
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(plain, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    const bytes = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    // The lines between masked ones are copied as one run of bytes.
    let [start, copied] = [0, 0];
    for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a, start)) {
      if (masks(bytes.subarray(start, end))) {
        await write(bytes.subarray(copied, start));
        await write('{}');
        copied = end;
      }
      start = end + 1;
    }
    await write(bytes.subarray(copied, start));
    rest = Buffer.from(bytes.subarray(start));
  }
  if (rest.length) await write(masks(rest) ? '{}' : rest);
  out.end();
  await finished;
  return rejected;
};
