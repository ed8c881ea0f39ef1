import { BadInputError } from '../errors/index.js';

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

/**
 * The `${Name}` placeholders an ASL template uses, sorted and without repeats.
 *
 * @param template - the ASL file's text
 */
export const placeholdersOf = (template: string): string[] =>
  [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1] as string))].sort();

/**
 * Fills every `${Name}` placeholder in an ASL template and parses the result.
 *
 * Values are JSON-escaped, and a placeholder without a value is an error rather than a literal
 * `${...}` left in a deployed definition.
 *
 * @example
 * renderAsl(text, { ExtractFunctionArn: 'arn:aws:lambda:…:function:extract' });
 * @param template - the ASL file's text
 * @param values - one value per placeholder
 */
export const renderAsl = (template: string, values: Readonly<Record<string, string>>): unknown => {
  const missing = placeholdersOf(template).filter((name) => !(name in values));
  if (missing.length > 0) {
    throw new BadInputError(`asl: no value for placeholder(s) ${missing.join(', ')}`);
  }
  const filled = template.replace(PLACEHOLDER, (_match, name: string) =>
    JSON.stringify(values[name]).slice(1, -1)
  );
  return JSON.parse(filled);
};
