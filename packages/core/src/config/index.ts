export { isIdentifier, quoteIdentifier, quoteLiteral } from './identifiers.js';
export { CONFIG_KEY, loadConfig } from './load.js';
export type { FeedConfig, QueryConfig, StrataConfig } from './schema.js';
export { configSchema, feedSchema, querySchema } from './schema.js';
export { parseOrThrow } from './validate.js';
