import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SfnApiError, SfnErrorCode } from './errors.js';
import type { LocalStepFunctions } from './LocalStepFunctions.js';

/** The actions the local API serves: `X-Amz-Target: AWSStepFunctions.<action>`. */
export const SFN_ACTIONS = [
  'ListStateMachines',
  'DescribeStateMachine',
  'StartExecution',
  'DescribeExecution',
  'ListExecutions',
  'GetExecutionHistory',
  'StopExecution',
  'RedriveExecution',
  'ListMapRuns',
  'DescribeMapRun',
] as const;

type Action = (typeof SFN_ACTIONS)[number];

const TARGET_PREFIX = 'AWSStepFunctions.';

/** Dates as the AWS JSON protocol sends them: epoch seconds. */
function epochSeconds(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Date ? raw.getTime() / 1000 : value;
}

const answer = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body, epochSeconds);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    ...(status === 200 ? {} : { 'x-amzn-errortype': (body as { __type: string }).__type }),
  });
  res.end(text);
};

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/**
 * Serves one request of the AWS JSON 1.0 protocol: the action from `X-Amz-Target`, the request
 * from the JSON body; a refused call answers 400 with `{ __type, message }`, as the service
 * does, and anything else that fails 500 with `InternalFailure`.
 */
const handle = async (api: LocalStepFunctions, req: IncomingMessage, res: ServerResponse) => {
  try {
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.slice(TARGET_PREFIX.length) as Action;
    if (
      req.method !== 'POST' ||
      !target.startsWith(TARGET_PREFIX) ||
      !SFN_ACTIONS.includes(action)
    ) {
      throw new SfnApiError(
        SfnErrorCode.UnknownOperationException,
        `Operation not supported: '${target || `${req.method} ${req.url}`}'`
      );
    }
    const text = await readBody(req);
    let request: unknown;
    try {
      request = text ? JSON.parse(text) : {};
    } catch {
      throw new SfnApiError(SfnErrorCode.SerializationException, 'Request body is not JSON');
    }
    const call = api[action] as (request: unknown) => Promise<unknown>;
    answer(res, 200, await call.call(api, request ?? {}));
  } catch (error) {
    if (error instanceof SfnApiError) {
      answer(res, 400, { __type: error.name, message: error.message });
      return;
    }
    answer(res, 500, { __type: 'InternalFailure', message: (error as Error).message });
  }
};

/** The local Step Functions endpoint, listening. */
export interface SfnApiServer {
  /** `http://127.0.0.1:<port>`: the SDK's `endpoint`, the CLI's `--endpoint-url`. */
  endpoint: string;
  port: number;
  /** Stops listening; executions in flight are not waited for. */
  close(): Promise<void>;
}

/**
 * Serves the Step Functions API of `api` over HTTP on 127.0.0.1, so the real
 * `@aws-sdk/client-sfn` and `aws stepfunctions --endpoint-url` drive local executions.
 *
 * @example
 * const server = await serveSfnApi(new LocalStepFunctions(runtime), 8083);
 * const sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1' });
 * @param api - the actions over the embedded runtime
 * @param port - the port to listen on; 0 picks a free one
 */
export const serveSfnApi = async (api: LocalStepFunctions, port = 0): Promise<SfnApiServer> => {
  const server: Server = createServer((req, res) => {
    void handle(api, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
