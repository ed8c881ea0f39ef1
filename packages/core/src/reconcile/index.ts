export {
  mergeColumns,
  type ReconcileInput,
  type ReconcileResult,
  reconcileInputSchema,
  runReconcile,
  schemaKeyOf,
} from './runReconcile.js';
