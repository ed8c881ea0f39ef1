export { DuckDbCatalog, type DuckDbCatalogOptions } from './DuckDbCatalog.js';
