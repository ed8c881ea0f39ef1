import { TransientError } from '../errors/index.js';
import type { WatermarkState, WatermarkStore } from '../ports/index.js';

/** A run's hold on an incremental query, from its claim to its commit. */
export interface WatermarkClaim {
  /** The stored state as this run claimed it (its `version` is what the commit expects). */
  state: WatermarkState;
  /** The run already committed: replay its manifest instead of extracting again. */
  alreadyCommitted: boolean;
  /** A run that claimed the query, died before committing, and whose parts must go. */
  orphanRunId?: string;
}

/** Half an hour: twice Lambda's 15-minute ceiling, so a live extract is never taken over. */
const DEFAULT_LEASE_SECONDS = 1800;

/**
 * Claims an incremental query for a run with a conditional write.
 *
 * A run that already committed (the stored state names it, or its manifest exists and no claim
 * of its own is open) gets `alreadyCommitted`, so a Lambda retry after the commit cannot read
 * past its own watermark and overwrite its parts with newer rows. A live claim by another run
 * is a `Strata.Transient` conflict; an expired one is taken over and reported as an orphan.
 *
 * @param store - the watermark store
 * @param query - the query's name
 * @param runId - the claiming run
 * @param options - whether this run's manifest exists, the lease, and the clock
 */
export const claimWatermark = async (
  store: WatermarkStore,
  query: string,
  runId: string,
  options: { hasManifest: boolean; leaseSeconds?: number; now?: Date }
): Promise<WatermarkClaim> => {
  const current = await store.get(query);
  const pending = current?.pending;
  if (
    current?.committedRunId === runId ||
    (options.hasManifest && current !== undefined && pending?.runId !== runId)
  ) {
    return { state: current as WatermarkState, alreadyCommitted: true };
  }
  const now = options.now ?? new Date();
  let orphanRunId: string | undefined;
  if (pending && pending.runId !== runId) {
    const ageSeconds = (now.getTime() - Date.parse(pending.since)) / 1000;
    if (ageSeconds < (options.leaseSeconds ?? DEFAULT_LEASE_SECONDS)) {
      throw new TransientError(
        `run ${pending.runId} has been extracting ${query} since ${pending.since}; retry when it is done`
      );
    }
    orphanRunId = pending.runId;
  }
  const expected = current?.version ?? 0;
  const claimed: WatermarkState = {
    query,
    value: current?.value,
    tieKeys: current?.tieKeys ?? [],
    committedRunId: current?.committedRunId,
    committedManifestKey: current?.committedManifestKey,
    pending: { runId, since: now.toISOString() },
    version: expected,
  };
  await store.put(claimed, expected);
  return {
    state: { ...claimed, version: expected + 1 },
    alreadyCommitted: false,
    ...(orphanRunId ? { orphanRunId } : {}),
  };
};

/**
 * Moves the watermark to what the run extracted and releases its claim, conditional on nobody
 * having written since the claim.
 *
 * @param store - the watermark store
 * @param claim - the run's claim
 * @param extracted - the highest watermark written and the keys of the rows carrying it
 * @param manifestKey - the run's committed manifest
 */
export const commitWatermark = async (
  store: WatermarkStore,
  claim: WatermarkClaim,
  extracted: { high?: string; ties: readonly string[] },
  manifestKey: string
): Promise<void> => {
  const runId = claim.state.pending?.runId;
  const moved = extracted.high !== undefined;
  await store.put(
    {
      query: claim.state.query,
      value: moved ? extracted.high : claim.state.value,
      tieKeys: moved ? [...extracted.ties] : claim.state.tieKeys,
      committedRunId: runId,
      committedManifestKey: manifestKey,
      version: claim.state.version,
    },
    claim.state.version
  );
};
