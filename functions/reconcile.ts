import { parseOrThrow } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';
import { reconcileInputSchema, runReconcile } from '@strata/core/reconcile';
import type { Context } from 'aws-lambda';
import { awsPlatform } from './_shared/aws.js';
import { engineOptions } from './_shared/engine.js';
import { stageHandler } from './_shared/handler.js';
import type { PlatformProvider } from './_shared/platform.js';

/**
 * Reconcile: sums the map's results, merges schema fragments into the feed's schema and its
 * catalog table, rewrites the columns it widened in the run's files, reports failed batches.
 */
export const createHandler = (platform: PlatformProvider) =>
  stageHandler(
    'reconcile',
    async (event, context: Context) => {
      const input = parseOrThrow(reconcileInputSchema, event, 'reconcile input');
      const { store, catalog, ledger } = platform();
      return DuckDbEngine.use(engineOptions(context), (engine) =>
        runReconcile(input, { store, catalog, ledger, engine })
      );
    },
    (result) => ({
      feed: result.feed,
      rows: result.rowsWritten,
      quarantined: result.recordsQuarantined,
    })
  );

export const handler = createHandler(awsPlatform);
