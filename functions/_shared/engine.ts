import type { DuckDbEngineOptions } from '@strata/core/engine';

/** Lambda gives one full vCPU per 1,769 MB of memory. */
const MB_PER_VCPU = 1769;

/**
 * The memory a handler is sized for outside Lambda (`npm start`, `sst dev`, tests): the local
 * runtime's functions say they have 2,048 MB, and they run in one process on a laptop.
 */
const LOCAL_FUNCTION_MEMORY_MB = 2048;

/**
 * DuckDB settings sized to the function: one thread per vCPU the memory buys, and a memory limit
 * that leaves room for Node's heap and the runtime (DuckDB would otherwise take 80% of the
 * machine it sees, not of the function). Outside Lambda, as for a function of
 * {@link LOCAL_FUNCTION_MEMORY_MB}: DuckDB always has a limit, and spills or fails with
 * `Strata.Terminal` past it rather than grow until the kernel stops the process.
 *
 * @example
 * engineOptions({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048' }); // { threads: 1, memoryLimit: '1228MB' }
 * @param env - the process environment
 */
export const engineOptions = (env: NodeJS.ProcessEnv = process.env): DuckDbEngineOptions => {
  const given = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const memory = Number.isFinite(given) && given > 0 ? given : LOCAL_FUNCTION_MEMORY_MB;
  return {
    threads: Math.max(1, Math.floor(memory / MB_PER_VCPU)),
    memoryLimit: `${Math.floor(memory * 0.6)}MB`,
  };
};
