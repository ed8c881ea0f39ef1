import { BadInputError } from '../errors/index.js';

/** A run id is used in object keys and SQL literals, so it is kept to a safe alphabet. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;

/**
 * Checks a run id (usually the Step Functions execution name).
 *
 * @param runId - the candidate id
 */
export const assertRunId = (runId: string): string => {
  if (!RUN_ID.test(runId)) {
    throw new BadInputError(`runId: "${runId}" must match ${RUN_ID.source}`);
  }
  return runId;
};

/** `YYYY-MM-DD` → Hive partition path `year=YYYY/month=MM/day=DD`. */
export const datePartition = (runDate: string): string => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(runDate);
  // A real calendar day: Date rolls 2026-02-30 over to March, so the round trip differs.
  const parsed = new Date(`${runDate}T00:00:00Z`);
  const real = match && !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(runDate);
  if (!match || !real) throw new BadInputError(`runDate: "${runDate}" must be a YYYY-MM-DD date`);
  const [, year, month, day] = match;
  return `year=${year}/month=${month}/day=${day}`;
};

/** How bronze parts are written: Parquet, or newline-delimited JSON. */
export type BronzeFormat = 'parquet' | 'json';

const pad = (n: number): string => String(n).padStart(5, '0');

/**
 * Every key Strata writes. Names derive from the input's identity (entity, run, part number), so
 * a retried or redriven stage overwrites its own output instead of adding to it.
 */
export const Lake = {
  bronzePrefix: (entity: string) => `bronze/${entity}/`,
  /** A part's file name: its run and its number in the run; the same in every partition. */
  bronzePartName: (runId: string, n: number, format: BronzeFormat = 'parquet') =>
    `part-${runId}-${pad(n)}.${format}`,
  bronzePart: (
    entity: string,
    runDate: string,
    runId: string,
    n: number,
    format: BronzeFormat = 'parquet'
  ) => `bronze/${entity}/${datePartition(runDate)}/${Lake.bronzePartName(runId, n, format)}`,
  /**
   * True for a part of exactly this run, in any partition of the entity: another run's id may
   * start with this one's (`run-a` and `run-a-2`).
   */
  isBronzePartOf: (key: string, entity: string, runId: string) => {
    const name = key.slice(key.lastIndexOf('/') + 1);
    const prefix = `part-${runId}-`;
    return (
      key.startsWith(Lake.bronzePrefix(entity)) &&
      name.startsWith(prefix) &&
      /^\d{5,}\.(parquet|json)$/.test(name.slice(prefix.length))
    );
  },
  bronzeManifest: (entity: string, runId: string) => `bronze/${entity}/_manifests/${runId}.json`,
  quarantine: (entity: string, runId: string) =>
    `quarantine/${entity}/run=${runId}/rejected.parquet`,
  goldModel: (model: string) => `gold/${model}/data.parquet`,
  /**
   * Where SageMaker writes a feature group's offline store under the lake (its
   * ResolvedOutputS3Uri, less `s3://<bucket>/`): `feature-store/<account>/sagemaker/<region>/
   * offline-store/<group>-<creation time, epoch seconds>/data/`.
   */
  featureOfflineRoot: (
    group: string,
    owner: { account: string; region: string; createdAt: number }
  ) =>
    `feature-store/${owner.account}/sagemaker/${owner.region}/offline-store/${group}-${owner.createdAt}/data/`,
  /**
   * One offline-store file: under the root, by the UTC hour of its records' event time, named
   * `<latest event time, yyyyMMddTHHmmssZ>_<16 alphanumerics>.parquet` as SageMaker names them.
   */
  featureOffline: (root: string, eventTime: Date, suffix: string) => {
    const iso = eventTime.toISOString();
    const [year, month, day, hour] = [
      iso.slice(0, 4),
      iso.slice(5, 7),
      iso.slice(8, 10),
      iso.slice(11, 13),
    ];
    const stamp = `${iso.slice(0, 19).replace(/[-:]/g, '')}Z`;
    return `${root}year=${year}/month=${month}/day=${day}/hour=${hour}/${stamp}_${suffix}.parquet`;
  },
} as const;
