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

const pad = (n: number): string => String(n).padStart(5, '0');

/**
 * Every key Strata writes. Names derive from the input's identity (entity, run, part number), so
 * a retried or redriven stage overwrites its own output instead of adding to it.
 */
export const Lake = {
  bronzeRunPrefix: (entity: string, runDate: string, runId: string) =>
    `bronze/${entity}/${datePartition(runDate)}/part-${runId}-`,
  bronzePart: (entity: string, runDate: string, runId: string, n: number) =>
    `${Lake.bronzeRunPrefix(entity, runDate, runId)}${pad(n)}.parquet`,
  /** True for this run's own parts only: another run's id may start with this one's. */
  isBronzePartOf: (key: string, entity: string, runDate: string, runId: string) => {
    const prefix = Lake.bronzeRunPrefix(entity, runDate, runId);
    return key.startsWith(prefix) && /^\d{5,}\.parquet$/.test(key.slice(prefix.length));
  },
  bronzeManifest: (entity: string, runId: string) => `bronze/${entity}/_manifests/${runId}.json`,
  silverTable: (entity: string) => `silver/${entity}/current.parquet`,
  quarantine: (entity: string, runId: string) =>
    `quarantine/${entity}/run=${runId}/rejected.parquet`,
  goldModel: (model: string) => `gold/${model}/data.parquet`,
  featureOffline: (group: string, eventTime: Date, name: string) => {
    const iso = eventTime.toISOString();
    const [year, month, day, hour] = [
      iso.slice(0, 4),
      iso.slice(5, 7),
      iso.slice(8, 10),
      iso.slice(11, 13),
    ];
    return `feature-store/${group}/year=${year}/month=${month}/day=${day}/hour=${hour}/${name}.parquet`;
  },
} as const;
