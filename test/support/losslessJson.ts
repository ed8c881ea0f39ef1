/*
 * A JSON reader that loses nothing, for tests that check what the lake kept against what it was
 * given: numbers keep their text (JSON.parse would round 9223372036854775807), objects keep
 * every member in order, a key twice included, and `__proto__` is a key like any other. It reads
 * RFC 8259 strictly: `NaN`, trailing commas, comments, single quotes and leading zeros fail.
 */

/** A JSON value, losslessly. */
export type JsonNode =
  | { kind: 'object'; members: [string, JsonNode][] }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Parses JSON text losslessly; throws on anything RFC 8259 does not allow.
 *
 * @param text - one JSON text (whitespace around it allowed)
 */
export const parseLossless = (text: string): JsonNode => {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${at}`);
  };
  const space = () => {
    while (at < text.length && ' \t\r\n'.includes(text[at] as string)) at++;
  };
  const string = (): string => {
    if (text[at] !== '"') fail('a string expected');
    at++;
    let out = '';
    for (;;) {
      const c = text[at];
      if (c === undefined) return fail('an unterminated string');
      if (c === '"') break;
      if (c.charCodeAt(0) < 0x20) fail('a control character in a string');
      if (c === '\\') {
        const e = text[at + 1] as string;
        if (e === 'u') {
          const hex = text.slice(at + 2, at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('a bad \\u escape');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          at += 6;
        } else {
          const decoded = ESCAPES[e];
          if (decoded === undefined || !Object.hasOwn(ESCAPES, e)) fail('a bad escape');
          out += decoded;
          at += 2;
        }
      } else {
        out += c;
        at++;
      }
    }
    at++;
    return out;
  };
  const value = (): JsonNode => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const members: [string, JsonNode][] = [];
      space();
      if (text[at] === '}') {
        at++;
        return { kind: 'object', members };
      }
      for (;;) {
        space();
        const key = string();
        space();
        if (text[at] !== ':') fail('":" expected');
        at++;
        members.push([key, value()]);
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return { kind: 'object', members };
        }
        fail('"," or "}" expected');
      }
    }
    if (c === '[') {
      at++;
      const items: JsonNode[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(value());
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return { kind: 'array', items };
        }
        fail('"," or "]" expected');
      }
    }
    if (c === '"') return { kind: 'string', value: string() };
    for (const [word, node] of [
      ['true', { kind: 'boolean', value: true }],
      ['false', { kind: 'boolean', value: false }],
      ['null', { kind: 'null' }],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return node;
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (!number) return fail('a value expected');
    at += number[0].length;
    return { kind: 'number', text: number[0] };
  };
  const result = value();
  space();
  if (at !== text.length) fail('text after the value');
  return result;
};

/** A number's value as sign, significant digits and exponent: `1.50` and `15e-1` are alike. */
const decimal = (text: string) => {
  const [, sign, whole = '', fraction = '', exponent = '0'] =
    /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text) ?? [];
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  const trimmed = digits.replace(/0+$/, '');
  const scale = Number(exponent) - fraction.length + (digits.length - trimmed.length);
  return trimmed === '' ? `${sign}0` : `${sign}${trimmed}e${scale}`;
};

/**
 * Whether two JSON numbers are the same number as the lake promises to keep it: the same
 * decimal value (the sign of zero included), or, for numbers of 16 or 17 significant digits,
 * the same double, which is what a double column holds of them.
 */
export const sameNumber = (a: string, b: string): boolean => {
  if (decimal(a) === decimal(b)) return true;
  const significant = (text: string) => decimal(text).replace(/^-|e.*$/g, '').length;
  return (
    Math.max(significant(a), significant(b)) <= 17 &&
    /[.eE]/.test(`${a}${b}`) &&
    Object.is(Number(a), Number(b)) &&
    Number.isFinite(Number(a)) &&
    Number(a) !== 0
  );
};

/**
 * A canonical text of a record as the lake keeps it: members sorted by key, numbers as decimal
 * values, and a member whose value is null left out, since a null and a missing key read alike
 * (SQL NULL). Two records with the same canonical text hold the same values.
 *
 * @param node - the record
 */
export const canonical = (node: JsonNode): string => {
  switch (node.kind) {
    case 'object':
      return `{${node.members
        .filter(([, child]) => child.kind !== 'null')
        .map(([key, child]) => `${JSON.stringify(key)}:${canonical(child)}`)
        .sort()
        .join(',')}}`;
    case 'array':
      return `[${node.items.map(canonical).join(',')}]`;
    case 'string':
      return JSON.stringify(node.value);
    case 'number':
      return `#${decimal(node.text)}`;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
  }
};

/**
 * A value as JSON text again, numbers as they were written.
 *
 * @param node - the value
 */
export const stringifyLossless = (node: JsonNode): string => {
  switch (node.kind) {
    case 'object':
      return `{${node.members.map(([key, child]) => `${JSON.stringify(key)}:${stringifyLossless(child)}`).join(',')}}`;
    case 'array':
      return `[${node.items.map(stringifyLossless).join(',')}]`;
    case 'string':
      return JSON.stringify(node.value);
    case 'number':
      return node.text;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
  }
};

/**
 * The leaves of a value with their paths: scalars, and empty objects and arrays.
 *
 * @param node - the value
 */
export const leavesOf = (node: JsonNode, path: string[] = []): [string[], JsonNode][] => {
  if (node.kind === 'object' && node.members.length > 0)
    return node.members.flatMap(([key, child]) => leavesOf(child, [...path, key]));
  if (node.kind === 'array' && node.items.length > 0)
    return node.items.flatMap((child, i) => leavesOf(child, [...path, String(i)]));
  return [[path, node]];
};

/**
 * Whether a value read back from the lake holds exactly the values of the one given to it, with
 * numbers compared by {@link sameNumber} (canonical texts compare them by decimal value only).
 *
 * @param given - what the lake was given
 * @param kept - what it read back
 */
export const sameValues = (given: JsonNode, kept: JsonNode): boolean => {
  if (given.kind === 'number' && kept.kind === 'number') return sameNumber(given.text, kept.text);
  if (given.kind === 'object' && kept.kind === 'object') {
    const present = (members: [string, JsonNode][]) =>
      members.filter(([, child]) => child.kind !== 'null').sort(([a], [b]) => (a < b ? -1 : 1));
    const [a, b] = [present(given.members), present(kept.members)];
    return (
      a.length === b.length &&
      a.every(([key, child], i) => key === b[i]?.[0] && sameValues(child, b[i]?.[1] as JsonNode))
    );
  }
  if (given.kind === 'array' && kept.kind === 'array') {
    return (
      given.items.length === kept.items.length &&
      given.items.every((child, i) => sameValues(child, kept.items[i] as JsonNode))
    );
  }
  return canonical(given) === canonical(kept);
};
