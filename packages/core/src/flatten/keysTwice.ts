import { createReadStream } from 'node:fs';
import { UTF8_BOM } from './textEncoding.js';

/** How the records of a file are laid out, as the slow path reads them. */
export type RecordLayout = 'jsonl' | 'array' | 'documents';

/** An object being read: the keys it has had so far. */
type Frame = { keys: Set<string>; expectKey: boolean } | undefined;

/**
 * The records of a file that hold a key twice in one object, at any depth, by their number as
 * the slow path gives it: a JSON Lines record by its line (blank lines counted), an array's
 * element or a document by its place among them. Read in one pass over the bytes, so a record
 * costs its size: DuckDB's `json_tree`, which asked the same, yields a row per node carrying its
 * whole subtree and ran out of 1.7 GiB on a 1 MB GeoJSON document.
 *
 * Keys compare as the strings they denote (`"a"` and `"\u0061"` are one key). A record that is
 * not JSON is judged elsewhere: what this finds in it is meaningless but harmless, as that
 * record is rejected as not valid JSON.
 *
 * @example
 * ```ts
 * await keysTwice('a.jsonl', 'jsonl'); // {2} for '{"a":1}\n{"a":1,"b":{"c":1,"c":2}}'
 * ```
 *
 * @param path - the (inflated, UTF-8) file
 * @param layout - how its records are laid out
 */
export const keysTwice = async (path: string, layout: RecordLayout): Promise<Set<number>> => {
  const twice = new Set<number>();
  /** The depth records sit at: 0 for lines and documents, 1 inside an array. */
  const recordDepth = layout === 'array' ? 1 : 0;
  let record = 0;
  const stack: Frame[] = [];
  let inString = false;
  let escaped = false;
  let hasEscape = false;
  /** Whether the string being read is a key, and its bytes so far. */
  let isKey = false;
  let key: Buffer[] = [];
  /** Whether the value being read at the record depth has been counted. */
  let counted = false;
  const startValue = () => {
    if (stack.length === recordDepth && !counted) {
      record++;
      counted = true;
    }
  };
  /** A value at the record depth ended: the next one is another record (a line's, only at its end). */
  const endValue = () => {
    if (layout !== 'jsonl') counted = false;
  };
  let offset = 0;
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    let keyFrom = 0;
    const from = offset === 0 && chunk.subarray(0, 3).equals(UTF8_BOM) ? UTF8_BOM.length : 0;
    offset += chunk.length;
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === 0x5c) escaped = hasEscape = true;
        else if (byte === 0x22) {
          inString = false;
          if (!isKey) continue;
          key.push(chunk.subarray(keyFrom, i));
          const bytes = key.length === 1 ? (key[0] as Buffer) : Buffer.concat(key);
          const name = hasEscape ? decodeKey(bytes) : bytes.toString('utf8');
          const frame = stack[stack.length - 1];
          if (frame && name !== undefined) {
            if (frame.keys.has(name)) twice.add(record);
            frame.keys.add(name);
          }
        } else if (byte === 0x0a && layout === 'jsonl') {
          // A line break ends a JSON Lines record even inside a broken string.
          inString = false;
          stack.length = 0;
          counted = false;
        }
        continue;
      }
      switch (byte) {
        case 0x22: {
          startValue();
          inString = true;
          hasEscape = false;
          const frame = stack[stack.length - 1];
          isKey = frame?.expectKey === true;
          if (isKey) {
            key = [];
            keyFrom = i + 1;
          }
          break;
        }
        case 0x7b:
          startValue();
          stack.push({ keys: new Set(), expectKey: true });
          break;
        case 0x5b:
          if (!(layout === 'array' && stack.length === 0)) startValue();
          stack.push(undefined);
          break;
        case 0x7d:
        case 0x5d:
          stack.pop();
          if (stack.length === recordDepth) endValue();
          break;
        case 0x3a: {
          const frame = stack[stack.length - 1];
          if (frame) frame.expectKey = false;
          break;
        }
        case 0x2c: {
          const frame = stack[stack.length - 1];
          if (frame) frame.expectKey = true;
          if (stack.length === recordDepth) endValue();
          break;
        }
        case 0x0a:
          if (layout === 'jsonl') {
            // Blank lines count too: records are numbered by their line.
            if (!counted) record++;
            stack.length = 0;
            counted = false;
          } else if (stack.length === recordDepth) endValue();
          break;
        case 0x20:
        case 0x09:
        case 0x0d:
          if (stack.length === recordDepth) endValue();
          break;
        default:
          // A number, `true`, `false` or `null`: a scalar record ends at the next separator.
          startValue();
      }
    }
    if (inString && isKey) key.push(Buffer.from(chunk.subarray(keyFrom)));
  }
  return twice;
};

/** The string a key with escapes denotes; none if the escapes are broken (no valid JSON). */
const decodeKey = (bytes: Buffer): string | undefined => {
  try {
    return JSON.parse(`"${bytes.toString('utf8')}"`) as string;
  } catch {
    return undefined;
  }
};
