import {
  type EmbeddedRuntime,
  LOCAL_BUCKET,
  localMachineArn,
  MACHINES,
} from '../runtime/EmbeddedRuntime.js';
import { LOCAL_S3_CREDENTIALS } from '../s3/LocalS3.js';
import type { SfnApiServer } from '../sfn-api/serveSfnApi.js';
import type { CliOutput } from './backfillFeeds.js';

/** Where `strata serve` serves the Step Functions API unless told: Step Functions Local's port. */
export const DEFAULT_SFN_PORT = 8083;

/** Where `strata serve` keeps local S3 unless told: s3rver's own default port. */
export const DEFAULT_S3_PORT = 4568;

/**
 * A `--port` value: an integer from 0 (a free port, printed) to 65535.
 *
 * @param value - the option as given
 * @param fallback - the port when the option is not given
 */
export const parsePort = (value: unknown, fallback: number): number | undefined => {
  if (value === undefined) return fallback;
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65_535 ? port : undefined;
};

/**
 * Says where the Step Functions API of a started runtime and its local S3 are and how to reach
 * them, and serves until the process is stopped (Ctrl-C).
 *
 * @param runtime - the embedded runtime, its local S3 on the port to keep
 * @param server - its Step Functions API, listening
 * @param write - where to say it
 */
export const serve = async (
  runtime: EmbeddedRuntime,
  server: SfnApiServer,
  write: CliOutput
): Promise<number> => {
  const example = localMachineArn('pipeline');
  write.out(
    [
      `Step Functions API at ${server.endpoint} (region us-east-1, any credentials)`,
      `local S3 at ${runtime.s3.endpoint} (bucket ${LOCAL_BUCKET}, credentials ${LOCAL_S3_CREDENTIALS.accessKeyId}/${LOCAL_S3_CREDENTIALS.secretAccessKey}, path-style)`,
      'state machines:',
      ...MACHINES.map((machine) => `  ${localMachineArn(machine)}`),
      '',
      'for example:',
      `  aws stepfunctions --endpoint-url ${server.endpoint} start-execution --state-machine-arn ${example} --input '{}'`,
      `  aws s3 --endpoint-url ${runtime.s3.endpoint} cp mine.json s3://${LOCAL_BUCKET}/raw/mine/all_historical_files/`,
      '',
      'serving until Ctrl-C',
    ].join('\n')
  );
  // The servers keep the process alive; Ctrl-C stops the runtime and ends it.
  return new Promise<number>(() => undefined);
};
