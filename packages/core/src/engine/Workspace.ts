import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private scratch directory for one stage invocation (Lambda's /tmp, or the OS temp dir).
 *
 * @example
 * await Workspace.use('extract', async (ws) => ws.path('part-0.parquet'));
 */
export class Workspace {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A path inside the workspace. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Runs `work` in a fresh workspace and removes it afterwards, also on error. */
  static async use<T>(label: string, work: (ws: Workspace) => Promise<T>): Promise<T> {
    const ws = new Workspace(await mkdtemp(join(tmpdir(), `strata-${label}-`)));
    try {
      return await work(ws);
    } finally {
      await rm(ws.dir, { recursive: true, force: true });
    }
  }
}
