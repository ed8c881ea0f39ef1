import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** `strata-duckdb-spill-<process>-<thread>-<engine>`: whose folder it is, and whether it is live. */
const SPILL_NAME = /^strata-duckdb-spill-(\d+)-(\d+)-\d+$/;

/** The folders of this thread's open engines. */
const open = new Set<string>();
let engines = 0;

/** Whether a process of this id runs (signal 0 checks without sending anything). */
const runs = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes the spill folders no engine will remove: a dead process's (a Lambda stopped at its
 * timeout, a killed process), which would fill a warm environment's /tmp for its next
 * invocations, and this thread's own that no open engine holds (a process before it with the
 * same id, as a restarted runtime may have). Another live process's or thread's are left alone.
 */
const sweep = (root: string) => {
  for (const name of readdirSync(root)) {
    const match = SPILL_NAME.exec(name);
    if (!match) continue;
    const [pid, thread] = [Number(match[1]), Number(match[2])];
    const folder = join(root, name);
    const mine = pid === process.pid && thread === threadId;
    if (mine ? !open.has(folder) : pid !== process.pid && !runs(pid)) {
      rmSync(folder, { recursive: true, force: true });
    }
  }
};

/**
 * A folder of its own for a new engine to spill to, under the OS's temporary folder; DuckDB
 * creates it when it first spills. Engines must not share one: DuckDB names its spill files
 * alike in every instance (`duckdb_temp_storage_S32K-0.tmp`), so two engines spilling at once
 * read and write each other's blocks (two batchMemory processes sharing
 * `/tmp/strata-duckdb-spill` ended in SIGSEGV), and one closing removes the other's files
 * ("Could not remove file").
 *
 * @example
 * const spill = claimSpillFolder();
 * // … DuckDBInstance.create(':memory:', { temp_directory: spill }) …
 * releaseSpillFolder(spill);
 */
export const claimSpillFolder = (): string => {
  const root = tmpdir();
  sweep(root);
  const folder = join(root, `strata-duckdb-spill-${process.pid}-${threadId}-${engines++}`);
  open.add(folder);
  return folder;
};

/**
 * Removes an engine's spill folder once the engine is closed.
 *
 * @param folder - what {@link claimSpillFolder} gave it
 */
export const releaseSpillFolder = (folder: string): void => {
  open.delete(folder);
  rmSync(folder, { recursive: true, force: true });
};
