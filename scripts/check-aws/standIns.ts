// Local stand-ins for the AWS APIs the embedded runtime has no emulator for, enough for a
// bundled handler's SDK client to complete its calls: Glue's table calls (Reconcile), the
// feature store's PutRecord and DeleteRecord (FeatureIngest) and SageMaker's
// DescribeFeatureGroup (HealthCheck).
// Everything else runs on s3rver and dynalite.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running stand-in and what it was asked. */
export interface StandIns {
  endpoint: string;
  /** `Glue.<Operation>`, `FeatureStore.PutRecord` or `.DeleteRecord`, `SageMaker.<Operation>`. */
  calls: string[];
  stop(): Promise<void>;
}

const body = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/**
 * Starts an HTTP server on 127.0.0.1 answering Glue (JSON 1.1, `X-Amz-Target: AWSGlue.*`)
 * with a catalog kept in memory, the feature store runtime's PutRecord and DeleteRecord with
 * 200, and DescribeFeatureGroup (`SageMaker.*`) with a group that is created and active.
 */
export const startStandIns = async (): Promise<StandIns> => {
  const tables = new Map<string, unknown>();
  const calls: string[] = [];
  const server = createServer(async (request, response) => {
    const text = await body(request);
    const target = request.headers['x-amz-target'];
    const reply = (status: number, payload: unknown = {}) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(payload));
    };
    if (typeof target === 'string' && target.startsWith('AWSGlue.')) {
      const operation = target.slice('AWSGlue.'.length);
      calls.push(`Glue.${operation}`);
      const input = JSON.parse(text || '{}') as {
        DatabaseName: string;
        Name?: string;
        TableInput?: { Name: string };
      };
      const name = `${input.DatabaseName}.${input.Name ?? input.TableInput?.Name}`;
      if (operation === 'GetTable') {
        const table = tables.get(name);
        if (!table) {
          return reply(400, { __type: 'EntityNotFoundException', Message: `${name} not found` });
        }
        return reply(200, { Table: table });
      }
      if (operation === 'CreateTable' || operation === 'UpdateTable') {
        tables.set(name, {
          ...input.TableInput,
          DatabaseName: input.DatabaseName,
          VersionId: String(tables.size + 1),
        });
        return reply(200);
      }
      return reply(400, { __type: 'InvalidInputException', Message: `${operation} unsupported` });
    }
    if (target === 'SageMaker.DescribeFeatureGroup') {
      calls.push('SageMaker.DescribeFeatureGroup');
      const { FeatureGroupName } = JSON.parse(text) as { FeatureGroupName: string };
      return reply(200, {
        FeatureGroupName,
        FeatureGroupStatus: 'Created',
        OfflineStoreStatus: { Status: 'Active' },
      });
    }
    if (request.method === 'PUT' && request.url?.startsWith('/FeatureGroup/')) {
      calls.push('FeatureStore.PutRecord');
      response.writeHead(200);
      return response.end();
    }
    if (request.method === 'DELETE' && request.url?.startsWith('/FeatureGroup/')) {
      calls.push('FeatureStore.DeleteRecord');
      response.writeHead(200);
      return response.end();
    }
    reply(404, { message: `no stand-in for ${request.method} ${request.url}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
};
