import { SFNClient } from '@aws-sdk/client-sfn';
import type { EmbeddedRuntime } from '../runtime/EmbeddedRuntime.js';
import { LocalStepFunctions, type LocalStepFunctionsOptions } from './LocalStepFunctions.js';
import { StepFunctionsExecutions } from './StepFunctionsExecutions.js';
import { type SfnApiServer, serveSfnApi } from './serveSfnApi.js';

/** How often the CLI reads a local execution's history: progress lines lag by at most this. */
const LOCAL_POLL_MS = 100;

/** The served API of a runtime and the CLI's client of it. */
export interface LocalExecutions {
  server: SfnApiServer;
  executions: StepFunctionsExecutions;
  /** Stops the client and the server; the runtime is the caller's. */
  close(): Promise<void>;
}

/**
 * Serves the Step Functions API of a runtime on 127.0.0.1 and returns a client of it for stage
 * `local`: the CLI starts and follows local executions through the calls it makes on AWS.
 *
 * @param runtime - the embedded runtime
 * @param port - the API's port; 0 picks a free one
 * @param options - e.g. function overrides, for a test's faults
 */
export const serveLocalExecutions = async (
  runtime: EmbeddedRuntime,
  port = 0,
  options: LocalStepFunctionsOptions = {}
): Promise<LocalExecutions> => {
  const server = await serveSfnApi(new LocalStepFunctions(runtime, options), port);
  const client = new SFNClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    // The local API checks no signature; the SDK needs some credentials to sign with.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    server,
    executions: new StepFunctionsExecutions({ client, stage: 'local', pollMs: LOCAL_POLL_MS }),
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
};
