import { SfnApiError, SfnErrorCode } from './errors.js';

/** A parsed Step Functions ARN: `arn:aws:states:<region>:<account>:<kind>:<rest>`. */
export interface StatesArn {
  region: string;
  account: string;
  kind: 'stateMachine' | 'execution' | 'mapRun';
  /** What follows the kind: `<machine>`, `<machine>:<execution>` or `<machine>/<label>:<id>`. */
  resource: string;
}

const ARN = /^arn:aws:states:([a-z0-9-]+):(\d{12}):(stateMachine|execution|mapRun):(.+)$/;

/**
 * Parses an ARN of the kind a parameter expects, refusing anything else with InvalidArn as the
 * service does.
 *
 * @param arn - the ARN as given
 * @param kind - the kind the parameter takes
 */
export const parseStatesArn = (arn: unknown, kind: StatesArn['kind']): StatesArn => {
  const match = typeof arn === 'string' ? ARN.exec(arn) : null;
  if (!match || match[3] !== kind) {
    throw new SfnApiError(SfnErrorCode.InvalidArn, `Invalid Arn: '${String(arn)}'`);
  }
  return { region: match[1], account: match[2], kind, resource: match[4] } as StatesArn;
};

/**
 * An execution's ARN: its state machine's with `execution:` and the name.
 *
 * @param stateMachineArn - `arn:aws:states:<region>:<account>:stateMachine:<name>`
 * @param name - the execution's name
 */
export const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/**
 * The state machine a Map Run's children run as: `mapRun:<machine>/<label>:<id>` →
 * `stateMachine:<machine>/<label>` (state-map-distributed.html).
 *
 * @param mapRunArn - the Map Run's ARN
 */
export const mapRunMachineArn = (mapRunArn: string): string =>
  mapRunArn.replace(':mapRun:', ':stateMachine:').replace(/:[^:]+$/, '');
