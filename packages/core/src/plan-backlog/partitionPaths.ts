import { BadInputError } from '../errors/index.js';
import type { PartitionFields } from '../flatten/index.js';
import type { ObjectInfo } from '../ports/index.js';
import { HEAD_OBJECTS } from './headRecords.js';

/** The run's first records the check looks at: enough for its verdict. */
const HEAD_RECORDS = 100;

/** The dotted paths of a record's fields, objects' own included, arrays not entered. */
const pathsOf = (value: unknown, prefix: string, into: Set<string>) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    into.add(path);
    pathsOf(child, path, into);
  }
};

/** Edits between two strings (Levenshtein), to name the paths a mistyped one was meant to be. */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
};

/**
 * The paths closest to `path`, by edits to the whole path or to its last key (a right name at
 * the wrong depth), nearest first.
 */
export const nearestPaths = (path: string, paths: Iterable<string>, count = 3): string[] => {
  const last = (p: string) => p.slice(p.lastIndexOf('.') + 1).toLowerCase();
  return [...paths]
    .map((candidate) => ({
      candidate,
      score: Math.min(
        distance(path.toLowerCase(), candidate.toLowerCase()),
        distance(last(path), last(candidate)) + 1
      ),
    }))
    .sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map(({ candidate }) => candidate);
};

/**
 * Checks that each path the feed partitions by is in at least one of the run's first records,
 * before any batch writes: a misspelt or absent path would otherwise put every row under
 * `__HIVE_DEFAULT_PARTITION__` without a word. A run whose first objects show no record on a
 * line of its own (a JSON array past a MiB, unreadable files) is not judged here.
 *
 * @param records - the run's first records ({@link headRecords})
 * @param objects - the run's first planned objects, which the records came from
 * @throws BadInputError naming the path and the nearest paths the records have
 */
export const checkPartitionPaths = (
  records: readonly unknown[],
  objects: readonly ObjectInfo[],
  partition: PartitionFields
): void => {
  const wanted = Object.entries({ date: partition.date, mode: partition.mode }).filter(
    (entry): entry is [string, string] => entry[1] !== undefined
  );
  if (wanted.length === 0 || records.length === 0) return;
  const head = records.slice(0, HEAD_RECORDS);
  const counts = new Map<string, number>();
  for (const record of head) {
    const paths = new Set<string>();
    pathsOf(record, '', paths);
    for (const path of paths) counts.set(path, (counts.get(path) ?? 0) + 1);
  }
  // Only paths two records share are named: a key seen once may be data (an id, an address).
  const shared = [...counts].filter(([, n]) => n > 1 || head.length === 1).map(([path]) => path);
  for (const [field, path] of wanted) {
    if (counts.has(path)) continue;
    const nearest = nearestPaths(path, shared);
    throw new BadInputError(
      `plan-backlog: partition.${field} "${path}" is in none of the first ${Math.min(records.length, HEAD_RECORDS)} records (${objects
        .slice(0, HEAD_OBJECTS)
        .map((o) => o.key)
        .join(
          ', '
        )}); nearest paths: ${nearest.join(', ') || 'none that two records share'}. Fix the feed's partition in the configuration, or leave ${field} out to not partition by it`
    );
  }
};
