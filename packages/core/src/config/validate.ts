import type { z } from 'zod';
import { BadInputError } from '../errors/index.js';

/** Renders a zod path as the user wrote it: `queries[2].primary_key`. */
const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');

/**
 * Parses `value` with `schema`, or throws a {@link BadInputError} naming every bad field.
 *
 * @example
 * parseOrThrow(configSchema, raw, 'config'); // config: queries[2].name: must be lower snake case
 * @param schema - the zod schema
 * @param value - untrusted input
 * @param what - what the input is, to start the message
 */
export const parseOrThrow = <S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string
): z.output<S> => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new BadInputError(`${what}: ${problems.join('; ')}`);
};
