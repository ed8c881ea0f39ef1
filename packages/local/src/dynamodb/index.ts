export { LocalDynamoDb } from './LocalDynamoDb.js';
