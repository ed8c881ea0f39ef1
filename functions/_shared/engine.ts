import type { DuckDbEngineOptions } from '@strata/core/engine';
import type { Context } from 'aws-lambda';

/** Lambda gives one full vCPU per 1,769 MB of memory. */
const MB_PER_VCPU = 1769;

/**
 * The memory a handler is sized for when its context names none (a test calling it directly):
 * the local runtime's contexts carry each function's deployed memory (stacks/lambdas.ts).
 */
const FALLBACK_MEMORY_MB = 2048;

/**
 * DuckDB settings sized to the function: one thread per vCPU the memory buys, and a memory limit
 * that leaves room for Node's heap and the runtime (DuckDB would otherwise take 80% of the
 * machine it sees, not of the function). The memory is the invocation context's, which Lambda
 * and the local runtime both set: DuckDB always has a limit, and spills or fails with
 * `Strata.Terminal` past it rather than grow until the kernel stops the process.
 *
 * @example
 * engineOptions({ memoryLimitInMB: '3538' }); // { threads: 2, memoryLimit: '2122MB' }
 * @param context - the invocation's context (its `memoryLimitInMB`)
 */
export const engineOptions = (
  context: Partial<Pick<Context, 'memoryLimitInMB'>> = {}
): DuckDbEngineOptions => {
  const given = Number(context.memoryLimitInMB);
  const memory = Number.isFinite(given) && given > 0 ? given : FALLBACK_MEMORY_MB;
  return {
    threads: Math.max(1, Math.floor(memory / MB_PER_VCPU)),
    memoryLimit: `${Math.floor(memory * 0.6)}MB`,
  };
};
