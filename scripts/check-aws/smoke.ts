// Runs every bundled function once, as Lambda would load it, inside the embedded runtime's
// pipeline and backfill executions: the bundles' own AWS platform (SST links from the
// environment, SDK clients from endpoint variables) against s3rver, dynalite and the stand-ins.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LocalFunction } from '@strata/local/asl';
import { generateBacklog } from '@strata/local/backlog';
import {
  BREAKER_TABLE,
  EmbeddedRuntime,
  LEDGER_TABLE,
  LOCAL_BUCKET,
  lambdaContext,
  WATERMARK_TABLE,
} from '@strata/local/runtime';
import { LOCAL_S3_CREDENTIALS } from '@strata/local/s3';
import type { LambdaName } from '../../stacks/lambdas.js';
import type { BuiltLambda } from './bundle.js';
import { recordS3Requests, type S3Request } from './s3Requests.js';
import { startStandIns } from './standIns.js';
import type { Finding } from './typecheck.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** The backfill's feed and folder: a small generated backlog. */
const FEED = 'payments';
const PREFIX = `raw/${FEED}/all_historical_files/`;

/**
 * What SST puts in a linked function's environment (`SST_RESOURCE_<Name>`, JSON), with the
 * local names, and the SDK endpoint variables that point the bundle's clients at local servers.
 */
const lambdaEnvironment = (endpoints: { s3: string; dynamodb: string; standIns: string }) => ({
  SST_RESOURCE_App: JSON.stringify({ name: 'strata', stage: 'check' }),
  SST_RESOURCE_Lake: JSON.stringify({ name: LOCAL_BUCKET, type: 'sst.sst.Linkable' }),
  SST_RESOURCE_Ledger: JSON.stringify({ name: LEDGER_TABLE, type: 'sst.sst.Linkable' }),
  SST_RESOURCE_Watermarks: JSON.stringify({ name: WATERMARK_TABLE, type: 'sst.sst.Linkable' }),
  SST_RESOURCE_Alerts: JSON.stringify({
    arn: 'arn:aws:sns:us-east-1:000000000000:strata-check-alerts',
    type: 'sst.sst.Linkable',
  }),
  SST_RESOURCE_Breakers: JSON.stringify({ name: BREAKER_TABLE, type: 'sst.sst.Linkable' }),
  SST_RESOURCE_Catalog: JSON.stringify({ name: 'strata_check', type: 'sst.sst.Linkable' }),
  SST_RESOURCE_FeatureGroup: JSON.stringify({
    name: 'strata-check-customer-features',
    arn: 'arn:aws:sagemaker:us-east-1:000000000000:feature-group/strata-check-customer-features',
    deadLetterQueueUrl:
      'https://sqs.us-east-1.amazonaws.com/000000000000/strata-check-features-dlq',
    type: 'sst.sst.Linkable',
  }),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_S3: endpoints.s3,
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  AWS_ENDPOINT_URL_GLUE: endpoints.standIns,
  AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME: endpoints.standIns,
  AWS_ENDPOINT_URL_SQS: endpoints.standIns,
  AWS_ENDPOINT_URL_SAGEMAKER: endpoints.standIns,
  // Only an unhealthy check publishes; the stand-in refuses it, so that fails the run.
  AWS_ENDPOINT_URL_SNS: endpoints.standIns,
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});

/** A bundle's handler, or why it does not load. */
const loadBundle = async (built: BuiltLambda): Promise<Handler | string> => {
  try {
    const module = (await import(pathToFileURL(built.bundle).href)) as Record<string, unknown>;
    const handler = module[built.exportName];
    return typeof handler === 'function'
      ? (handler as Handler)
      : `exports no function ${built.exportName}`;
  } catch (error) {
    return `does not load: ${(error as Error).message}`;
  }
};

/** What a smoke run found wrong, and every S3 request the bundles made (s3Access.ts checks them). */
export interface SmokeRun {
  findings: Finding[];
  s3Requests: S3Request[];
}

/**
 * Runs the pipeline and a backfill with every function replaced by its bundle, and returns what
 * went wrong: a bundle that does not load or fails, an execution that does not succeed, a
 * function no execution reached; and the S3 requests each bundle made. Sets process.env for
 * the bundles: run it in its own process.
 *
 * @param bundles - every deployed function's bundle, by logical name
 */
export const smokeRun = async (bundles: Map<LambdaName, BuiltLambda>): Promise<SmokeRun> => {
  const findings: Finding[] = [];
  let s3Requests: S3Request[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'strata-check-aws-'));
  const standIns = await startStandIns();
  let runtime: EmbeddedRuntime | undefined;
  try {
    runtime = await EmbeddedRuntime.start({ dir, scale: 0.002, timeScale: 0.001 });
    const recorder = recordS3Requests(runtime.s3.endpoint);
    s3Requests = recorder.requests;
    Object.assign(
      process.env,
      lambdaEnvironment({
        s3: runtime.s3.endpoint,
        dynamodb: runtime.dynamo.endpoint,
        standIns: standIns.endpoint,
      })
    );
    await generateBacklog({
      store: runtime.store,
      targetBytes: 256 * 1024,
      seed: 3,
      feeds: [FEED],
    });
    const ran = new Set<string>();
    const overrides: Record<string, (real: LocalFunction) => LocalFunction> = {};
    for (const [name, built] of bundles) {
      const handler = await loadBundle(built);
      if (typeof handler === 'string') {
        findings.push(`${name}: bundle ${handler}`);
        continue;
      }
      overrides[name] = () => async (event) => {
        ran.add(name);
        try {
          return await recorder.as(name, () => handler(event, lambdaContext(name)));
        } catch (error) {
          const { name: errorName, message } = error as Error;
          findings.push(`${name}: bundle fails: ${errorName}: ${message}`);
          throw error;
        }
      };
    }
    const runs = [
      { machine: 'pipeline', input: {} },
      { machine: 'backfill', input: { feed: FEED, prefix: PREFIX } },
    ] as const;
    for (const { machine, input } of runs) {
      const outcome = await runtime.execute(machine, { input, functionOverrides: overrides });
      if (outcome.status !== 'SUCCEEDED') {
        const { error, cause } = outcome as { error?: string; cause?: string };
        findings.push(`${machine}: ${outcome.status} ${error ?? ''} ${cause ?? ''}`.trim());
      }
    }
    for (const name of bundles.keys()) {
      if (!ran.has(name)) findings.push(`${name}: no execution ran its bundle`);
    }
    recorder.stop();
  } finally {
    await runtime?.stop();
    await standIns.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { findings: [...new Set(findings)], s3Requests };
};
