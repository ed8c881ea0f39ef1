import { BadInputError } from '../errors/index.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/** True for a plain SQL identifier: letters, digits and underscores, not starting with a digit. */
export const isIdentifier = (name: string): boolean => IDENTIFIER.test(name);

/**
 * Quotes an identifier that came from config or from a source schema.
 *
 * Only plain identifiers pass, so a quote or a semicolon in config can never reach the SQL text.
 *
 * @example
 * quoteIdentifier('C_CUSTKEY'); // '"C_CUSTKEY"'
 * @param name - the identifier to quote
 */
export const quoteIdentifier = (name: string): string => {
  if (!isIdentifier(name)) {
    throw new BadInputError(`"${name}" is not a valid SQL identifier (letters, digits, _)`);
  }
  return `"${name}"`;
};

/** Quotes a string literal for SQL (paths, keys): single quotes doubled. */
export const quoteLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;
