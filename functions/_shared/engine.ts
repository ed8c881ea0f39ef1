import type { DuckDbEngineOptions } from '@strata/core/engine';

/** Lambda gives one full vCPU per 1,769 MB of memory. */
const MB_PER_VCPU = 1769;

/**
 * DuckDB settings sized to the function: one thread per vCPU the memory buys, and a memory limit
 * that leaves room for Node's heap and the runtime (DuckDB would otherwise take 80% of the
 * machine it sees, not of the function).
 *
 * @example
 * engineOptions({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048' }); // { threads: 1, memoryLimit: '1228MB' }
 * @param env - the process environment
 */
export const engineOptions = (env: NodeJS.ProcessEnv = process.env): DuckDbEngineOptions => {
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (!Number.isFinite(memory) || memory <= 0) return { threads: 1 };
  return {
    threads: Math.max(1, Math.floor(memory / MB_PER_VCPU)),
    memoryLimit: `${Math.floor(memory * 0.6)}MB`,
  };
};
