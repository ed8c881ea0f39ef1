import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FeatureGroupDescription, FeatureGroups } from '@strata/core/ports';

/**
 * The embedded runtime's feature store control plane: every group exists once the online store
 * can be written (LocalFeatureStore creates its table on first write), and its offline store is
 * the lake, which the health check probes on its own.
 */
export class LocalFeatureGroups implements FeatureGroups {
  readonly #onlinePath: string;

  /** @param onlinePath - the online store's DuckDB file */
  constructor(onlinePath: string) {
    this.#onlinePath = onlinePath;
  }

  async describe(): Promise<FeatureGroupDescription> {
    try {
      await access(dirname(this.#onlinePath), constants.W_OK);
      return { status: 'Created', offlineStoreStatus: 'Active' };
    } catch (error) {
      return {
        status: 'CreateFailed',
        reason: `online store ${this.#onlinePath} cannot be written: ${(error as Error).message}`,
      };
    }
  }
}
