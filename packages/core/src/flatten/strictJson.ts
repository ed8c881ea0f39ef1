/*
 * DuckDB's JSON parser is more lenient than RFC 8259 (it takes `NaN`, `Infinity` and trailing
 * commas) and reads every number that is not an integer as a double, so a decimal with more
 * digits than a double keeps, one below its range, or an integer `-0` would reach the lake
 * changed. Checking every line with JSON.parse would halve the fast path's rate, so Node's scan
 * looks for the few byte patterns that can mean either, and only the lines holding one get the
 * full check here; the slow path asks DuckDB's regular expressions the same question.
 */

/** Why a line, or an element of a JSON array, holds no record the lake keeps as it was. */
export type Rejection =
  | 'not valid JSON'
  | 'not a JSON object'
  | 'a number DuckDB would change: more than 17 significant digits, below a double, or -0'
  | 'a lone surrogate, which UTF-8 text cannot hold'
  | 'a key appears twice in one object'
  | 'a top-level key no JSON path reaches ("", "*" or one holding a NUL)';

const LOSSY: Rejection =
  'a number DuckDB would change: more than 17 significant digits, below a double, or -0';

/**
 * Byte patterns worth a full check, as a regular expression over a chunk read as Latin-1: what
 * RFC 8259 forbids and DuckDB takes (`NaN`, `Infinity`, a comma before a closing bracket), and
 * the numbers DuckDB may change: `-0` as a value (after `:`, `,`, `[` or a space; `SKU-0` is
 * text), a point with nine digits after it or before it (a number of 18 significant digits has
 * them on one side: `1234567890.12345678` as well as `0.123456789012345678`), an exponent of three
 * digits. Strings match too (an id of 20 digits): the check tells.
 */
export const UNUSUAL =
  /NaN|Infinity|,[ \t\r]*[}\]]|[:,[ \t]-0(?![1-9.])|\.(?:[0-9]{9}|(?<=[0-9]{9}\.))|[eE][+-]?[0-9]{3}/g;

/** The same question in DuckDB's (RE2) syntax, for records already loaded. */
export const UNUSUAL_RE2 =
  'NaN|Infinity|,[ \\t\\r\\n]*[}\\]]|-0([^1-9.]|$)|[0-9](\\.?[0-9]){17}|[eE][+-]?[0-9]{3}';

const isDigit = (code: number) => code >= 0x30 && code <= 0x39;
/** Digits, `-`, `+`, `.`, `e` and `E`: what a JSON number is written with. */
const inNumber = (code: number) =>
  isDigit(code) ||
  code === 0x2d ||
  code === 0x2b ||
  code === 0x2e ||
  code === 0x65 ||
  code === 0x45;

/**
 * Whether DuckDB would read this JSON number as another number: an integer keeps every digit
 * (past 64 bits too) but `-0` reads back as 0; any other number becomes a double, which keeps
 * 17 significant digits and nothing below its range (a number past its range DuckDB keeps as
 * written).
 *
 * @example
 * ```ts
 * changesInDuckDb('9223372036854775807'); // false
 * changesInDuckDb('1e-400'); // true
 * ```
 *
 * @param text - a JSON number as written
 */
export const changesInDuckDb = (text: string): boolean => {
  if (!/[.eE]/.test(text)) return text === '-0';
  const mantissa = text.replace(/[eE].*$/, '');
  const significant = mantissa.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  if (significant === '') return false;
  const value = Number(text);
  return significant.length > 17 || value === 0;
};

/**
 * Whether a match of {@link UNUSUAL} in `text` at `index` needs the full check: a pattern
 * RFC 8259 forbids always does; a number only if DuckDB would change it.
 */
const needsCheck = (text: string, index: number, match: string): boolean => {
  const first = match.charCodeAt(0);
  const isExponent = first === 0x65 || first === 0x45;
  if (first !== 0x2e && !isExponent) return true;
  if (isExponent && !isDigit(text.charCodeAt(index - 1))) return false;
  if (!isExponent) {
    // Most decimals (every double's shortest form) have at most 17 digits and no exponent:
    // counted here, they need no token.
    let digits = 0;
    for (let i = index - 1; i >= 0 && isDigit(text.charCodeAt(i)); i--) digits++;
    let end = index + 1;
    for (; end < text.length && isDigit(text.charCodeAt(end)); end++) digits++;
    const next = text.charCodeAt(end);
    if (digits < 18 && next !== 0x65 && next !== 0x45) return false;
  }
  let start = index;
  while (start > 0 && inNumber(text.charCodeAt(start - 1))) start--;
  let end = index + match.length;
  while (end < text.length && inNumber(text.charCodeAt(end))) end++;
  const token = text.slice(start, end);
  return !/^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(token) || changesInDuckDb(token);
};

/**
 * Offsets in `text` (a chunk of bytes read as Latin-1, one character a byte) where a line needs
 * the full check ({@link strictRejection}), in order.
 *
 * @example
 * ```ts
 * unusualOffsets('{"a":1}\n{"a":NaN}\n'); // [13]
 * ```
 *
 * @param text - the bytes, as Latin-1
 */
export const unusualOffsets = (text: string): number[] => {
  const offsets: number[] = [];
  const pattern = new RegExp(UNUSUAL);
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (needsCheck(text, match.index, match[0])) offsets.push(match.index);
  }
  return offsets;
};

/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What JSON.parse passes a reviver's third argument (Node 22): the text of a primitive. */
type ReviverContext = { source?: string };

/**
 * Why a line holds no record the lake keeps as it was, by RFC 8259 (control characters around
 * the value aside, as DuckDB's reader takes them); none when it holds a JSON object whose every
 * number and string DuckDB keeps.
 *
 * @example
 * ```ts
 * strictRejection('[6]'); // 'not a JSON object'
 * strictRejection('{"a": NaN}'); // 'not valid JSON'
 * strictRejection('{"id": 4}'); // undefined
 * ```
 *
 * @param text - the line
 */
export const strictRejection = (text: string): Rejection | undefined => {
  let reason: Rejection | undefined;
  const judge = (key: string, value: unknown, context?: ReviverContext) => {
    if (typeof value === 'number' && context?.source && changesInDuckDb(context.source))
      reason ??= LOSSY;
    if ((typeof value === 'string' && LONE_SURROGATE.test(value)) || LONE_SURROGATE.test(key))
      reason ??= 'a lone surrogate, which UTF-8 text cannot hold';
    return value;
  };
  let value: unknown;
  try {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: those are the characters trimmed
    value = JSON.parse(text.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''), judge as never);
  } catch {
    return 'not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'not a JSON object';
  return reason;
};
