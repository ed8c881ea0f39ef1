/** SageMaker Feature Store's three feature types. */
export const FEATURE_TYPES = ['Integral', 'Fractional', 'String'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** One feature definition, as the feature group declares it. */
export interface FeatureDefinition {
  name: string;
  type: FeatureType;
}

/**
 * A feature group's definitions as the gold model's header declares them: the one place the
 * features are written down. stacks/features.ts builds the feature group from it, feature-ingest
 * checks the model's columns and every record against it, the local store types its columns by it.
 */
export interface FeatureContract {
  /** The model the features come from, e.g. `ml_features`. */
  model: string;
  /** The record identifier feature. */
  recordId: string;
  /** The event time feature: not a model column, feature-ingest sets it to the run's start. */
  eventTime: string;
  /** Every feature in the model's column order, then the event time. */
  features: FeatureDefinition[];
}

const LINE = /^--[ \t]*(record id|event time|feature):[ \t]*(\S+)(?:[ \t]+(\S+))?/gm;

/**
 * Reads a model's feature contract from its header:
 *
 * ```sql
 * -- record id:  customer_id
 * -- event time: event_time String
 * -- feature:    customer_id Integral
 * -- feature:    total_spent Fractional
 * ```
 *
 * @param model - the model's name, for messages
 * @param sql - the model file's text
 * @throws Error naming the line when the header lacks a part or a type is not a feature type
 */
export const parseFeatureContract = (model: string, sql: string): FeatureContract => {
  let recordId: string | undefined;
  let eventTime: FeatureDefinition | undefined;
  const features: FeatureDefinition[] = [];
  const typed = (name: string, type: string | undefined): FeatureDefinition => {
    if (!FEATURE_TYPES.includes(type as FeatureType)) {
      throw new Error(
        `model ${model}: feature ${name} has type ${type ?? '(none)'}; a feature's type is one of ${FEATURE_TYPES.join(', ')}`
      );
    }
    return { name, type: type as FeatureType };
  };
  for (const [, kind, name = '', type] of sql.matchAll(LINE)) {
    if (kind === 'record id') recordId = name;
    else if (kind === 'event time') eventTime = typed(name, type);
    else features.push(typed(name, type));
  }
  if (!recordId || !eventTime || features.length === 0) {
    throw new Error(
      `model ${model}: its header must declare "-- record id:", "-- event time:" and one "-- feature:" line per feature`
    );
  }
  const names = features.map((feature) => feature.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i || name === eventTime?.name);
  if (twice) throw new Error(`model ${model}: feature ${twice} is declared twice`);
  if (!names.includes(recordId)) {
    throw new Error(`model ${model}: the record id ${recordId} is not one of its features`);
  }
  if (eventTime.type === 'Integral') {
    throw new Error(
      `model ${model}: event time ${eventTime.name} must be String (ISO-8601) or Fractional (epoch seconds)`
    );
  }
  return { model, recordId, eventTime: eventTime.name, features: [...features, eventTime] };
};

/** The contract's features that are the model's columns: every one but the event time. */
export const modelFeatures = (contract: FeatureContract): FeatureDefinition[] =>
  contract.features.filter((feature) => feature.name !== contract.eventTime);

/** The column type each feature type is stored as, in DuckDB and in the offline store's Parquet. */
export const STORAGE_TYPE = {
  Integral: 'BIGINT',
  Fractional: 'DOUBLE',
  String: 'VARCHAR',
} as const satisfies Record<FeatureType, string>;

/** The Glue (Hive) type of each feature type, as SageMaker's offline-store table declares it. */
export const GLUE_TYPE = {
  Integral: 'bigint',
  Fractional: 'double',
  String: 'string',
} as const satisfies Record<FeatureType, string>;

/** The feature type a DuckDB column type can be sent as, or undefined for none. */
export const featureTypeOf = (columnType: string): FeatureType | undefined => {
  const type = columnType.toUpperCase();
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(type)) return 'Integral';
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL(\(\d+,\s*\d+\))?)$/.test(type)) return 'Fractional';
  if (type === 'VARCHAR') return 'String';
  return undefined;
};

/**
 * Where a model's columns disagree with its contract, one line per feature, or none when they
 * agree: a feature the model lacks, a column no feature declares, a column of another type.
 *
 * @param contract - the declared features
 * @param columns - the model's columns with their DuckDB types, in order
 */
export const contractMismatches = (
  contract: FeatureContract,
  columns: readonly { name: string; type: string }[]
): string[] => {
  const declared = modelFeatures(contract);
  const problems: string[] = [];
  for (const feature of declared) {
    const column = columns.find((c) => c.name === feature.name);
    if (!column) {
      problems.push(
        `feature ${feature.name} (${feature.type}) is not a column of ${contract.model}`
      );
    } else if (featureTypeOf(column.type) !== feature.type) {
      problems.push(
        `feature ${feature.name} is declared ${feature.type} but ${contract.model} gives ${column.type}`
      );
    }
  }
  for (const column of columns) {
    if (column.name === contract.eventTime) {
      problems.push(
        `column ${column.name} of ${contract.model} is the event time, which feature-ingest sets`
      );
    } else if (!declared.some((feature) => feature.name === column.name)) {
      problems.push(`column ${column.name} of ${contract.model} is not a declared feature`);
    }
  }
  return problems;
};
