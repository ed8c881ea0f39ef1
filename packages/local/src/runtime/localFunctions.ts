import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import type { Platform } from '../../../../functions/_shared/platform.js';
import { LAMBDAS, type LambdaBuild } from '../../../../stacks/lambdas.js';
import type { LocalFunction } from '../asl/LocalIntegrations.js';

/** The repository's functions/ folder, where the real handlers live. */
const FUNCTIONS_DIR = new URL('../../../../functions/', import.meta.url);

/** `ExtractEntity` → `extract-entity`: the handler file named by a logical function name. */
export const handlerFileOf = (functionName: string): string =>
  functionName.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

type HandlerFactory = (
  platform: () => Platform
) => (event: unknown, context: Context) => Promise<unknown>;

/**
 * A Lambda context with the fields Powertools and middy read, and the function's deployed
 * memory, which sizes its DuckDB as in Lambda.
 */
export const lambdaContext = (functionName: string): Context => {
  const build = (LAMBDAS as Record<string, LambdaBuild | undefined>)[functionName];
  if (!build) throw new Error(`no function ${functionName} in stacks/lambdas.ts`);
  const deadline = Date.now() + 15 * 60 * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: String(build.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

/**
 * Loads the real handler for a logical function name (`PlanRun` → functions/plan-run.ts) and
 * builds it on the local platform.
 *
 * @param functionName - the logical name in the state machine's ARN placeholder
 * @param platform - the local adapters
 */
export const loadLocalFunction = async (
  functionName: string,
  platform: Platform
): Promise<LocalFunction> => {
  const file = new URL(`${handlerFileOf(functionName)}.ts`, FUNCTIONS_DIR);
  if (!existsSync(file)) {
    throw new Error(`no handler for function ${functionName} at ${fileURLToPath(file)}`);
  }
  // Nothing reads CloudWatch's embedded metric format locally: keep it off stdout.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const module = (await import(file.href)) as { createHandler: HandlerFactory };
  const handler = module.createHandler(() => platform);
  return (event) => handler(event, lambdaContext(functionName));
};
