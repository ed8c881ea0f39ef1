import { z } from 'zod';
import type { FeatureContract, FeatureDefinition } from './contract.js';

/**
 * An Integral value: a number without a fraction, or the digits of one a double cannot hold
 * exactly (feature-ingest keeps those as text rather than round them).
 */
const integral = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'not an integer')]);

const valueSchema = (feature: FeatureDefinition, contract: FeatureContract): z.ZodType => {
  if (feature.name === contract.eventTime) {
    return feature.type === 'String' ? z.iso.datetime({ offset: true }) : z.number();
  }
  const value = { Integral: integral, Fractional: z.number(), String: z.string() }[feature.type];
  // The record identifier is what the store keys by: never absent.
  return feature.name === contract.recordId ? value : value.nullable();
};

/**
 * The zod schema of one feature record under a contract: every declared feature, of its type,
 * nothing else; only the record id and the event time may not be null.
 *
 * @param contract - the feature group's definitions
 */
export const featureRecordSchema = (contract: FeatureContract) =>
  z.strictObject(
    Object.fromEntries(
      contract.features.map((feature) => [feature.name, valueSchema(feature, contract)])
    )
  );

/** What a record breaks, one `feature: problem` per issue, e.g. `order_count: not an integer`. */
export const recordProblems = (error: z.ZodError): string =>
  error.issues
    .map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `${issue.keys.join(', ')}: not a declared feature`
        : `${issue.path.join('.') || '(record)'}: ${issue.message}`
    )
    .join('; ');
