export {
  mergeColumns,
  type ReconcileInput,
  type ReconcileResult,
  reconcileInputSchema,
  runReconcile,
  schemaKeyOf,
} from './runReconcile.js';
export { silverTableOf } from './silverTable.js';
