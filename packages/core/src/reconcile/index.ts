export {
  mergeColumns,
  type ReconcileInput,
  type ReconcileResult,
  reconcileInputSchema,
  runReconcile,
} from './runReconcile.js';
export { silverTableOf } from './silverTable.js';
