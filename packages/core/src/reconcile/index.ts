export { conformFiles } from './conformFiles.js';
export {
  mergeColumns,
  type ReconcileInput,
  type ReconcileReport,
  type ReconcileResult,
  reconcileInputSchema,
  runReconcile,
} from './runReconcile.js';
export { silverTableOf } from './silverTable.js';
