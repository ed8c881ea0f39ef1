import { parseOrThrow } from '@strata/core/config';
import { reconcileInputSchema, runReconcile } from '@strata/core/reconcile';
import { awsPlatform } from './_shared/aws.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/**
 * Reconcile: sums the map's results, merges schema fragments into the feed's schema and its
 * catalog table, reports failed batches.
 */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'reconcile',
    async (event) => {
      const input = parseOrThrow(reconcileInputSchema, event, 'reconcile input');
      const { store, catalog, ledger } = platform();
      return runReconcile(input, { store, catalog, ledger });
    },
    (result) => ({
      feed: result.feed,
      rows: result.rowsWritten,
      quarantined: result.recordsQuarantined,
    })
  );

export const handler = createHandler(awsPlatform);
