import { createReadStream, createWriteStream } from 'node:fs';
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
  error?: string;
}

const isSpace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

/**
 * Inflates a gzip object (DuckDB returns nothing, rather than failing, for a truncated gzip, so
 * Node does it and reports the damage) and scans it once for its layout and line counts, which
 * the fast path checks DuckDB's record counts against.
 *
 * @param local - the downloaded object
 * @param options - whether it is gzip, and where the inflated copy goes
 */
export const inspectRawObject = async (
  local: string,
  options: { gzip: boolean; plain: string }
): Promise<RawObjectInfo> => {
  let path = local;
  if (options.gzip) {
    try {
      await pipeline(createReadStream(local), createGunzip(), createWriteStream(options.plain));
      path = options.plain;
    } catch (error) {
      const message = `gzip: ${(error as Error).message}`;
      return { path, layout: 'unreadable', lines: 0, innerBlankLines: false, error: message };
    }
  }
  let lines = 0;
  let first: number | undefined;
  let lineHasText = false;
  let blankSinceText = false;
  let innerBlankLines = false;
  const sawText = (byte: number) => {
    lineHasText = true;
    if (blankSinceText) innerBlankLines = true;
    first ??= byte;
  };
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === 0x0a) {
        if (lineHasText) lines++;
        else if (lines > 0) blankSinceText = true;
        lineHasText = false;
        // Most lines are long records starting with text: jump to the next newline natively.
        const start = chunk[i + 1];
        if (start !== undefined && !isSpace(start)) {
          sawText(start);
          const next = chunk.indexOf(0x0a, i + 1);
          if (next < 0) break;
          i = next - 1;
        }
      } else if (!lineHasText && !isSpace(byte)) sawText(byte);
    }
  }
  if (lineHasText) lines++;
  const layout = first === undefined ? 'empty' : first === 0x5b ? 'array' : 'lines';
  return { path, layout, lines, innerBlankLines };
};
