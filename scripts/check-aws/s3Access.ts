// Holds the S3 requests each bundle made in the smoke run (s3Requests.ts) to the IAM policy
// stacks/ renders for that function (render.ts): a request the policy would refuse is a deploy
// that fails on its first run, which the local S3 (no IAM) cannot show.
import type { RenderedPolicy, Statement } from './render.js';
import type { S3Request } from './s3Requests.js';
import type { Finding } from './typecheck.js';

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** IAM's wildcards: `*` any run of characters, `?` one. */
const globMatches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`
  ).test(value);

/** The condition operators the stacks use; any other makes the statement not apply here. */
const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringLike: globMatches,
  StringEquals: (pattern, value) => pattern === value,
};

const conditionHolds = (
  condition: Statement['Condition'],
  context: Record<string, string>
): boolean =>
  Object.entries(condition ?? {}).every(([operator, keys]) => {
    const test = OPERATORS[operator];
    return (
      test !== undefined &&
      Object.entries(keys).every(([key, patterns]) => {
        const value = context[key];
        return value !== undefined && list(patterns).some((pattern) => test(pattern, value));
      })
    );
  });

/**
 * Whether a policy allows `action` on `resource` with the request's condition keys: some Allow
 * statement matches and no Deny does.
 *
 * @param statements - the identity's rendered statements
 * @param action - e.g. `s3:GetObject`
 * @param resource - the object's or the bucket's ARN
 * @param context - condition keys of the request (`s3:prefix` for a listing)
 */
export const policyAllows = (
  statements: readonly Statement[],
  action: string,
  resource: string,
  context: Record<string, string> = {}
): boolean => {
  const applies = (statement: Statement) =>
    list(statement.Action).some((pattern) => globMatches(pattern, action)) &&
    list(statement.Resource).some((pattern) => globMatches(pattern, resource)) &&
    conditionHolds(statement.Condition, context);
  return (
    statements.some((s) => s.Effect === 'Allow' && applies(s)) &&
    !statements.some((s) => s.Effect === 'Deny' && applies(s))
  );
};

/** A key's first folder (`_features/hashes/x` → `_features/`), to report a grant, not each key. */
const folderOf = (key: string) =>
  key.includes('/') ? `${key.slice(0, key.indexOf('/') + 1)}` : key;

/**
 * Requests the rendered policies would refuse, and reads of missing keys that AWS would answer
 * 403 instead of 404: S3 says "no such key" only to a caller allowed to list it (s3:ListBucket
 * with the key matching an `s3:prefix` condition), and the stages read a missing key as absent.
 * One finding per function, action and top folder, with a count and an example key.
 *
 * @param requests - what the bundles asked S3 during the smoke run
 * @param policies - every function's rendered policy, owner `function:<Name>`
 * @param lakeArn - the rendered lake bucket's ARN, which the local bucket stands for
 */
export const s3AccessFindings = (
  requests: readonly S3Request[],
  policies: readonly RenderedPolicy[],
  lakeArn: string
): Finding[] => {
  const refused = new Map<string, { count: number; example: string }>();
  const refuse = (problem: string, key: string) => {
    const seen = refused.get(problem);
    refused.set(problem, { count: (seen?.count ?? 0) + 1, example: seen?.example ?? key });
  };
  for (const request of requests) {
    const statements = policies.find((p) => p.owner === `function:${request.fn}`)?.statements ?? [];
    const listing = request.action === 's3:ListBucket';
    const allowed = listing
      ? policyAllows(statements, request.action, lakeArn, { 's3:prefix': request.key })
      : policyAllows(statements, request.action, `${lakeArn}/${request.key}`);
    const where = `${listing ? 'prefix ' : ''}${folderOf(request.key) || '(bucket root)'}`;
    if (!allowed) {
      refuse(
        `${request.fn}: ${request.action} on ${where} is not allowed by its rendered policy`,
        request.key
      );
    } else if (
      request.action === 's3:GetObject' &&
      request.status === 404 &&
      !policyAllows(statements, 's3:ListBucket', lakeArn, { 's3:prefix': request.key })
    ) {
      refuse(
        `${request.fn}: reads missing keys under ${where} as absent, but may not list them (s3:ListBucket with s3:prefix): AWS answers 403 AccessDenied, not 404`,
        request.key
      );
    }
  }
  return [...refused].map(
    ([problem, { count, example }]) =>
      `${problem} (${count} request${count === 1 ? '' : 's'}, e.g. ${example})`
  );
};
