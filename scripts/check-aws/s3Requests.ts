// Records the S3 requests each bundled function makes during the smoke run, as IAM sees them
// (action, object key or listed prefix), with S3's answer: the bundles carry their own SDK, so
// the record is taken where every copy meets, at node:http. A function is known by the async
// context its handler runs in (AsyncLocalStorage), so executions running side by side keep
// their requests apart.
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** One permission an S3 request needs, as IAM evaluates it. */
export interface S3Request {
  /** The logical function whose handler made it. */
  fn: string;
  /** `s3:GetObject`, `s3:PutObject`, `s3:ListBucket`… */
  action: string;
  /** The object's key; for `s3:ListBucket`, the listed prefix (`s3:prefix`). */
  key: string;
  /** S3's HTTP status, once answered. */
  status?: number;
}

const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));

/** The keys a DeleteObjects body names. */
const deletedKeys = (body: string): string[] =>
  [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) =>
    (match[1] ?? '')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&apos;', "'")
      .replaceAll('&amp;', '&')
  );

/**
 * The permissions one path-style S3 request needs (`/<bucket>/<key>?<query>`): a copy needs
 * read on its source too, a DeleteObjects delete on each key in its body (read later, `body`).
 */
const permissionsOf = (
  method: string,
  path: string,
  header: (name: string) => string | undefined
): { action: string; key: string }[] | 'body' => {
  const url = new URL(path, 'http://s3.local');
  const [, , ...rest] = url.pathname.split('/');
  const key = decode(rest.join('/'));
  const query = url.searchParams;
  if (!key) {
    if (method === 'POST' && query.has('delete')) return 'body';
    // ListObjects(V2) and HeadBucket.
    return [{ action: 's3:ListBucket', key: query.get('prefix') ?? '' }];
  }
  const copy = header('x-amz-copy-source');
  switch (method) {
    case 'GET':
      return [
        { action: query.has('uploadId') ? 's3:ListMultipartUploadParts' : 's3:GetObject', key },
      ];
    case 'HEAD':
      return [{ action: 's3:GetObject', key }];
    case 'PUT': {
      const source = copy ? decode(copy.replace(/^\//, '').split('?')[0] ?? '') : undefined;
      return [
        { action: 's3:PutObject', key },
        ...(source ? [{ action: 's3:GetObject', key: source.split('/').slice(1).join('/') }] : []),
      ];
    }
    case 'POST':
      return [{ action: 's3:PutObject', key }];
    case 'DELETE':
      return [
        { action: query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', key },
      ];
    default:
      return [{ action: `s3:${method}`, key }];
  }
};

/** A recording in progress. */
export interface S3Recorder {
  /** Every request so far, one entry per permission it needs. */
  readonly requests: S3Request[];
  /** Runs `work` as function `fn`: the S3 requests it makes are recorded as that function's. */
  as<T>(fn: string, work: () => Promise<T>): Promise<T>;
  stop(): void;
}

/**
 * Starts recording the S3 requests made to `endpoint` from inside {@link S3Recorder.as}.
 *
 * @param endpoint - the local S3's URL (`http://127.0.0.1:<port>`)
 */
export const recordS3Requests = (endpoint: string): S3Recorder => {
  const { host } = new URL(endpoint);
  const running = new AsyncLocalStorage<string>();
  const requests: S3Request[] = [];
  const onCreated = (message: unknown) => {
    const fn = running.getStore();
    const request = (message as { request: ClientRequest }).request;
    if (!fn || request.getHeader('host') !== host) return;
    const header = (name: string) => request.getHeader(name)?.toString();
    const needs = permissionsOf(request.method, request.path, header);
    const entries: S3Request[] = [];
    const answered = (response: IncomingMessage) => {
      for (const entry of entries) entry.status = response.statusCode;
    };
    request.once('response', answered);
    if (needs !== 'body') {
      for (const need of needs) entries.push({ fn, ...need });
      requests.push(...entries);
      return;
    }
    // DeleteObjects names its keys in the body: read it as it is written.
    const chunks: Buffer[] = [];
    const write = request.write.bind(request);
    const end = request.end.bind(request);
    const keep = (chunk: unknown) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string));
    };
    request.write = ((chunk: unknown, ...args: never[]) => {
      keep(chunk);
      return write(chunk as string, ...args);
    }) as typeof request.write;
    request.end = ((chunk?: unknown, ...args: never[]) => {
      keep(chunk);
      for (const key of deletedKeys(Buffer.concat(chunks).toString('utf8'))) {
        const entry = { fn, action: 's3:DeleteObject', key };
        entries.push(entry);
        requests.push(entry);
      }
      return end(chunk as string, ...args);
    }) as typeof request.end;
  };
  // `created`: published in ClientRequest's constructor, before the body is written.
  subscribe('http.client.request.created', onCreated);
  return {
    requests,
    as: (fn, work) => running.run(fn, work),
    stop: () => unsubscribe('http.client.request.created', onCreated),
  };
};
