import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Rejection, unusualOffsets } from './strictJson.js';
import { decodeToUtf8, markedEncoding, UTF8_BOM, utf8Check } from './textEncoding.js';

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
  /**
   * Non-blank lines (numbered among them) holding a byte pattern DuckDB's reader would take
   * less strictly than RFC 8259, or a number it could change (`strictJson`): each needs the
   * full check.
   */
  unusual: number[];
  /** Bytes of its longest line: what DuckDB's readers must be let take as one record. */
  longestLine: number;
  /** Bytes of the plain text. */
  bytes: number;
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

/**
 * Bytes a read, or an inflate, hands on at once. Streams' defaults (64 KiB reads, 16 KiB of
 * inflated output) made inflating an object cost three times zlib's own work: 270–330 ms of CPU
 * for 30 MiB of the backlog, 90–120 ms with 1 MiB chunks.
 */
const CHUNK_BYTES = 1 << 20;
/**
 * The longest line a sample keeps, and the most a sample keeps of one object: sampled lines stay
 * in memory (about a thousand a batch), and a batch whose sample misses a longer record's keys
 * finds them in the key pass. A file of one large document is one line: at 4 MiB, a 4.7 MB
 * caniuse-db document was never seen by the checks that bound a batch's columns.
 */
const MAX_SAMPLED_LINE = 16 * 1024 ** 2;
const MAX_SAMPLED_BYTES = 64 * 1024 ** 2;
const NEWLINE = Buffer.from('\n');
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
 * An object no reader takes, and why.
 *
 * @param path - the file it was read from, if any
 * @param error - why
 */
export const unreadable = (path: string, error: string): RawObjectInfo => ({
  path,
  layout: 'unreadable',
  lines: 0,
  innerBlankLines: false,
  sample: [],
  suspect: [],
  unusual: [],
  longestLine: 0,
  bytes: 0,
  error,
});

/**
 * Bytes of the previous chunk a pattern of {@link unusualOffsets} may begin in: a trailing
 * comma cut by a chunk's end is found with up to 60 spaces before its bracket.
 */
const OVERLAP = 64;

const mib = (bytes: number) =>
  (bytes / 1024 ** 2).toLocaleString('en-US', { maximumFractionDigits: 1 });

/**
 * Inflates a gzip object (DuckDB returns nothing, rather than failing, for a truncated gzip, so
 * Node does it and reports the damage) and scans it once for its layout and line counts, which
 * the fast path checks DuckDB's record counts against, keeping a sample of lines on the way
 * (DuckDB would read the whole file again to spread one over it).
 *
 * @param local - the downloaded object
 * The text is checked on the way: UTF-16 or UTF-32 with a byte order mark is decoded to UTF-8
 * first (`textEncoding`); bytes that are no UTF-8 text, or a line longer than a record may be,
 * make the object unreadable, with the reason. Lines holding a byte pattern DuckDB's reader
 * takes less strictly than RFC 8259 are listed for the full check (`strictJson`).
 *
 * @param options - whether it is gzip, where the inflated (or decoded) copy goes and how large
 *   it may grow, the longest line a record may be, and which lines to sample
 */
export const inspectRawObject = async (
  local: string,
  options: {
    gzip: boolean;
    plain: string;
    maxPlainBytes?: number;
    maxRecordBytes?: number;
    sample?: SampleOptions;
  }
): Promise<RawObjectInfo> => {
  let path = local;
  if (options.gzip) {
    try {
      await pipeline(
        createReadStream(local, { highWaterMark: CHUNK_BYTES }),
        createGunzip({ chunkSize: CHUNK_BYTES }),
        atMost(options.maxPlainBytes ?? Number.POSITIVE_INFINITY),
        createWriteStream(options.plain)
      );
      path = options.plain;
    } catch (error) {
      // What was inflated of it would only crowd the rest of the batch out of the disk.
      await rm(options.plain, { force: true });
      return unreadable(path, `gzip: ${(error as Error).message}`);
    }
  }
  const encoding = await markedEncoding(path);
  if (encoding) {
    const decoded = path === options.plain ? `${options.plain}.utf8` : options.plain;
    try {
      await decodeToUtf8(path, decoded, encoding);
    } catch (error) {
      await rm(decoded, { force: true });
      return unreadable(path, `not valid ${encoding} text: ${(error as Error).message}`);
    } finally {
      if (path === options.plain) await rm(path);
    }
    path = decoded;
  }
  let lines = 0;
  let first: number | undefined;
  let lineHasText = false;
  /** The current line's first and last bytes other than whitespace, and where it starts. */
  let lineFirst = 0;
  let lineLast = 0;
  let lineStart = 0;
  let longestLine = 0;
  const suspect: number[] = [];
  const unusual: number[] = [];
  /** Offsets {@link unusualOffsets} found that no line ended after yet, in order. */
  let pending: number[] = [];
  let checked = 0;
  /** Ends the current line at `end`, the offset of its newline (or of the file's end). */
  const endLine = (end: number) => {
    lines++;
    longestLine = Math.max(longestLine, end - lineStart);
    // A line that opens or closes with a control character (a form feed…) is DuckDB's to judge.
    const opens = lineFirst === 0x7b || lineFirst < 0x20;
    const closes = lineLast === 0x7d || lineLast < 0x20;
    if (!opens || !closes) suspect.push(lines);
    let holds = false;
    for (; checked < pending.length && (pending[checked] as number) < end; checked++) {
      holds ||= (pending[checked] as number) >= lineStart;
    }
    if (holds) unusual.push(lines);
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
  /** A sampled line the chunk read so far ends inside: its bytes until its newline or the end. */
  let open: Buffer[] | undefined;
  let openBytes = 0;
  /**
   * Keeps the line from `start` of the chunk read at `offset` if the sample wants it: up to
   * `end`, or when no newline ends it in this chunk (`end` < 0), up to the next one or the end
   * of the file (`carry`), unless it outgrows {@link MAX_SAMPLED_LINE}.
   */
  let sampledBytes = 0;
  const keep = (line: Buffer) => {
    sample.push(line);
    sampledBytes += line.length;
  };
  const sampled = (chunk: Buffer, offset: number, start: number, end: number) => {
    if (lines >= head && offset + start < sampleFrom) return;
    if (sampledBytes >= MAX_SAMPLED_BYTES) return;
    if (end >= 0) keep(Buffer.from(chunk.subarray(start, end)));
    else [open, openBytes] = [[Buffer.from(chunk.subarray(start))], chunk.length - start];
    if (lines >= head) sampleFrom = offset + start + everyBytes;
  };
  /** Adds the chunk's bytes to the open sampled line, up to its newline (`end`) if it has one. */
  const carry = (chunk: Buffer, end: number) => {
    if (!open) return;
    const part = end < 0 ? chunk : chunk.subarray(0, end);
    openBytes += part.length;
    if (openBytes > MAX_SAMPLED_LINE) open = undefined;
    else open.push(Buffer.from(part));
    if (end < 0 || !open) return;
    keep(Buffer.concat(open));
    open = undefined;
  };
  const sawText = (byte: number) => {
    lineHasText = true;
    lineFirst = byte;
    if (blankSinceText) innerBlankLines = true;
    first ??= byte;
  };
  const text = utf8Check();
  let offset = 0;
  let tail = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, {
    highWaterMark: CHUNK_BYTES,
  }) as AsyncIterable<Buffer>) {
    const notText = text(chunk);
    if (notText) return unreadable(path, notText);
    // A pattern may begin in the previous chunk's last bytes.
    const from0 = offset - tail.length;
    pending = pending.slice(checked);
    checked = 0;
    for (const at of unusualOffsets(tail.toString('latin1') + chunk.toString('latin1'))) {
      pending.push(from0 + at);
    }
    tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - OVERLAP)));
    // A byte order mark opens the text, as DuckDB's reader takes it, not the first line.
    const from = offset === 0 && chunk.subarray(0, 3).equals(UTF8_BOM) ? UTF8_BOM.length : 0;
    carry(chunk, chunk.indexOf(0x0a));
    if (offset === 0 && chunk.length > from && !isSpace(chunk[from] as number)) {
      sampled(chunk, offset, from, chunk.indexOf(0x0a));
    }
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === 0x0a) {
        if (lineHasText) endLine(offset + i);
        else if (lines > 0) blankSinceText = true;
        lineHasText = false;
        lineStart = offset + i + 1;
        // Most lines are long records starting with text: jump to the next newline natively.
        const start = chunk[i + 1];
        if (start !== undefined && !isSpace(start)) {
          sawText(start);
          const next = chunk.indexOf(0x0a, i + 1);
          lineLast = lastText(chunk, i + 1, next < 0 ? chunk.length : next, start);
          sampled(chunk, offset, i + 1, next);
          if (next < 0) break;
          i = next - 1;
        }
      } else if (!isSpace(byte)) {
        if (!lineHasText) sawText(byte);
        lineLast = byte;
      }
    }
    offset += chunk.length;
  }
  const notText = text(undefined);
  if (notText) return unreadable(path, notText);
  if (lineHasText) endLine(offset);
  // The last line, with no newline after it.
  if (open) keep(Buffer.concat(open));
  const layout = first === undefined ? 'empty' : first === 0x5b ? 'array' : 'lines';
  const isLines = layout === 'lines';
  const maxRecordBytes = options.maxRecordBytes ?? Number.POSITIVE_INFINITY;
  // A record DuckDB would need more memory for than a function has: the object is kept whole.
  if (isLines && longestLine > maxRecordBytes) {
    return unreadable(
      path,
      `a line of ${mib(longestLine)} MiB, more than the ${mib(maxRecordBytes)} MiB a record may hold`
    );
  }
  return {
    path,
    layout,
    lines,
    innerBlankLines,
    sample: isLines ? sample : [],
    suspect: isLines ? suspect : [],
    unusual,
    longestLine,
    bytes: offset,
  };
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
    highWaterMark: CHUNK_BYTES,
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

/**
 * Rewrites a JSON array file, or a file of JSON objects written one after another over many
 * lines (a pretty-printed document, as an API response or a `package.json` is saved), as JSON
 * Lines: one element or object a line, each one's bytes as they were but for the line breaks
 * between its tokens (which become spaces). The readers of JSON Lines then take it, the wide one
 * included, and a batch's sample sees its records. Records are numbered as the array's elements
 * or the file's objects, so a quarantined one keeps its place. Only a well-formed top level is
 * rewritten — `[`, elements split by commas, `]`, then nothing but whitespace, the first element
 * an object; or objects with nothing but whitespace between them — and a line break inside a
 * string stops it too. Such a file is left to the line-by-line reader, which judges it.
 *
 * @param plain - the (inflated, UTF-8) file, its first character other than whitespace `[` for
 *   an array, `{` for objects
 * @param out - where the lines go; removed again when the file is not rewritten
 * @param layout - an array, or objects one after another
 * @returns whether it was rewritten
 */
export const toLines = async (
  plain: string,
  out: string,
  layout: 'array' | 'objects'
): Promise<boolean> => {
  const file = createWriteStream(out);
  const finished = once(file, 'finish');
  const write = async (data: Buffer) => {
    if (!file.write(data)) await once(file, 'drain');
  };
  /** How deep the records sit: inside the array, or at the top. */
  const top = layout === 'array' ? 1 : 0;
  /** 0 before `[`, 1 inside the array, more inside an element's objects and arrays. */
  let depth = 0;
  let inString = false;
  let escaped = false;
  let closed = false;
  /** Whether the record being read holds a byte yet (an empty element is a malformed array). */
  let element = false;
  let elements = 0;
  let wellFormed = true;
  /** A top-level object just ended: the next byte becomes, or is preceded by, a line break. */
  let lineBreak = false;
  let offset = 0;
  read: for await (const chunk of createReadStream(plain, {
    highWaterMark: CHUNK_BYTES,
  }) as AsyncIterable<Buffer>) {
    const from = offset === 0 && chunk.subarray(0, 3).equals(UTF8_BOM) ? UTF8_BOM.length : 0;
    offset += chunk.length;
    const copy = Buffer.from(chunk.subarray(from));
    /** The bytes of `copy` to write: runs of record bytes, with `\n` between records. */
    let keepFrom = 0;
    let kept = 0;
    const keep = (end: number) => {
      if (end > keepFrom) copy.copy(copy, kept, keepFrom, end);
      kept += Math.max(0, end - keepFrom);
    };
    /** Leaves the byte at `i` out. */
    const skip = (i: number) => {
      keep(i);
      keepFrom = i + 1;
    };
    for (let i = 0; i < copy.length; i++) {
      const byte = copy[i] as number;
      if (closed) {
        if (!isSpace(byte)) {
          wellFormed = false;
          break read;
        }
        skip(i);
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === 0x5c) escaped = true;
        else if (byte === 0x22) inString = false;
        else if (byte === 0x0a || byte === 0x0d) {
          wellFormed = false;
          break read;
        }
        continue;
      }
      if (depth === 0 && top === 1) {
        if (byte === 0x5b) depth = 1;
        else if (!isSpace(byte)) {
          wellFormed = false;
          break read;
        }
        skip(i);
        continue;
      }
      if (top === 1 && depth === 1 && (byte === 0x2c || byte === 0x5d)) {
        // The end of an element: a comma after none, or `]` after a comma, is no array.
        if (!element && (byte === 0x2c || elements > 0)) {
          wellFormed = false;
          break read;
        }
        keep(i);
        if (element) {
          copy[kept++] = 0x0a;
          elements++;
        }
        keepFrom = i + 1;
        element = false;
        if (byte === 0x5d) closed = true;
        continue;
      }
      if (lineBreak) {
        lineBreak = false;
        if (isSpace(byte)) {
          keep(i);
          copy[kept++] = 0x0a;
          keepFrom = i + 1;
          continue;
        }
        // An object right after another: the break goes between them, written ahead.
        keep(i);
        await write(Buffer.from(copy.subarray(0, kept)));
        await write(NEWLINE);
        [kept, keepFrom] = [0, i];
      }
      if (depth === top && !element && isSpace(byte)) {
        // Whitespace between records is left out.
        skip(i);
        continue;
      }
      if (!element && (top === 0 || elements === 0) && byte !== 0x7b) {
        // Lines opening with `[` would read as an array again, and a scalar first as no record;
        // an object's end is all that tells where a top-level value ends.
        wellFormed = false;
        break read;
      }
      element = true;
      if (byte === 0x0a || byte === 0x0d) copy[i] = 0x20;
      else if (byte === 0x22) inString = true;
      else if (byte === 0x7b || byte === 0x5b) depth++;
      else if (byte === 0x7d || byte === 0x5d) {
        depth--;
        if (depth < top) {
          wellFormed = false;
          break read;
        }
        if (depth === 0) {
          // The end of a top-level object: a line break follows it.
          elements++;
          element = false;
          lineBreak = true;
        }
      }
    }
    keep(copy.length);
    await write(copy.subarray(0, kept));
  }
  file.end();
  await finished;
  const ended = layout === 'array' ? closed : depth === 0 && !inString;
  if (wellFormed && ended && elements > 0) return true;
  await rm(out, { force: true });
  return false;
};
