export { DuckDbEngine, type DuckDbEngineOptions, type JsonRow } from './DuckDbEngine.js';
export { Workspace } from './Workspace.js';
