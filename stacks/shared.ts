// Small pieces every stack file builds the same way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAsl } from '@strata/core/asl';

/** A project file's path: SST runs the program from under .sst/, not from the project root. */
export const fromRoot = (...path: string[]): string => join($cli.paths.root, ...path);

/** This deploy's account, region and partition, for ARNs no resource hands over. */
export const deployTarget = {
  account: aws.getCallerIdentityOutput().accountId,
  region: aws.getRegionOutput().region,
  partition: aws.getPartitionOutput().partition,
};

/** A trust policy letting one AWS service assume a role. */
export const assumedBy = (service: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });

/**
 * A state machine definition from statemachines/<file>, its `${...}` placeholders filled with
 * the resolved values of `bindings` (renderAsl refuses any placeholder left without a value).
 *
 * @param file - the ASL file's name
 * @param bindings - one output per placeholder
 */
export const aslDefinition = (file: string, bindings: Record<string, $util.Input<string>>) => {
  const template = readFileSync(fromRoot('statemachines', file), 'utf8');
  return $resolve(bindings).apply((values) =>
    JSON.stringify(renderAsl(template, values as Record<string, string>))
  );
};

/**
 * The raw JSON feeds config/strata.json names under `feeds`: the deployed configuration is that
 * file, so the weekly schedule covers exactly the feeds the stages are configured for.
 */
export const configuredFeeds = (): string[] =>
  Object.keys(
    (JSON.parse(readFileSync(fromRoot('config/strata.json'), 'utf8')) as { feeds?: object })
      .feeds ?? {}
  );
