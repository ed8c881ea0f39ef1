export { placeholdersOf, renderAsl } from './render.js';
