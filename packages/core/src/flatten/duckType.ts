/**
 * A DuckDB type as its reader infers it for JSON: a named scalar (`BIGINT`, `VARCHAR`, `JSON`,
 * `TIMESTAMP`…), a STRUCT with its fields in order, a LIST of one element type, or a MAP.
 */
export type DuckType =
  | { kind: 'scalar'; name: string }
  | { kind: 'struct'; fields: [string, DuckType][] }
  | { kind: 'list'; element: DuckType }
  | { kind: 'map'; key: DuckType; value: DuckType }
  /**
   * An object whose keys are data, read from JSON text (`mapShapes.ts`): `fields` are the keys
   * it holds as fields, every other key is an entry whose value has type `value` (none: it
   * holds no other key). Never parsed from DuckDB's text.
   */
  | { kind: 'keyed'; fields: [string, DuckType][]; value?: DuckType }
  /**
   * Values of several kinds, objects or arrays among them (`mapShapes.ts`): each kind typed as
   * it would be alone, `scalars` split per kind.
   */
  | {
      kind: 'mixed';
      object?: Extract<DuckType, { kind: 'keyed' }>;
      array?: DuckType;
      scalars: boolean;
    };

/**
 * Parses a type as `describe` prints it: `STRUCT(id BIGINT, "name" VARCHAR, tags VARCHAR[])`,
 * `MAP(VARCHAR, JSON)`, `TIMESTAMP WITH TIME ZONE`. Field names may be quoted (`""` is a quote).
 *
 * @example
 * ```ts
 * parseDuckType('STRUCT(a BIGINT[])'); // { kind: 'struct', fields: [['a', { kind: 'list', … }]] }
 * ```
 *
 * @param text - the type's text
 */
export const parseDuckType = (text: string): DuckType => {
  let at = 0;
  const skipSpace = () => {
    while (text[at] === ' ') at++;
  };
  const name = (): string => {
    skipSpace();
    if (text[at] === '"') {
      let out = '';
      for (at++; at < text.length; at++) {
        if (text[at] === '"' && text[at + 1] === '"') {
          out += '"';
          at++;
        } else if (text[at] === '"') break;
        else out += text[at];
      }
      at++;
      return out;
    }
    const start = at;
    while (at < text.length && !' (),[]'.includes(text[at] ?? '')) at++;
    return text.slice(start, at);
  };
  const expect = (token: string) => {
    skipSpace();
    if (!text.startsWith(token, at)) throw new Error(`unexpected type text at ${at}: ${text}`);
    at += token.length;
  };
  const type = (): DuckType => {
    skipSpace();
    let word = name();
    let parsed: DuckType;
    if (word === 'STRUCT') {
      expect('(');
      const fields: [string, DuckType][] = [];
      skipSpace();
      while (text[at] !== ')') {
        const start = at;
        const field = name();
        // A STRUCT holding an empty key is printed with every field unnamed (`STRUCT(BIGINT,
        // VARCHAR)` for `{"": 1, "f": "x"}`): its keys are lost, but not that one is empty,
        // which keeps such an object whole (a named field's type follows a space).
        if (text[at] === ' ') fields.push([field, type()]);
        else {
          at = start;
          fields.push(['', type()]);
        }
        skipSpace();
        if (text[at] === ',') at++;
        skipSpace();
      }
      at++;
      parsed = { kind: 'struct', fields };
    } else if (word === 'MAP') {
      expect('(');
      const key = type();
      expect(',');
      const value = type();
      expect(')');
      parsed = { kind: 'map', key, value };
    } else {
      // Multi-word names (`TIMESTAMP WITH TIME ZONE`) and arguments (`DECIMAL(18,3)`).
      for (;;) {
        const save = at;
        skipSpace();
        if (!/[A-Z]/.test(text[at] ?? '')) {
          at = save;
          break;
        }
        word += ` ${name()}`;
      }
      if (text[at] === '(') {
        const close = text.indexOf(')', at);
        word += text.slice(at, close + 1);
        at = close + 1;
      }
      parsed = { kind: 'scalar', name: word };
    }
    while (text.startsWith('[]', at)) {
      at += 2;
      parsed = { kind: 'list', element: parsed };
    }
    return parsed;
  };
  const parsed = type();
  skipSpace();
  if (at !== text.length) throw new Error(`unexpected type text at ${at}: ${text}`);
  return parsed;
};
