import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from './DuckDbEngine.js';
import { Workspace } from './Workspace.js';

/** A value no error may repeat: what a person's record might hold. */
const SECRET = 'SSN-078-05-1120';

/** Runs `sql` against files written to a workspace and returns what it was rejected with. */
const rejectionOf = (
  files: Record<string, string>,
  sql: (path: (name: string) => string) => string
) =>
  DuckDbEngine.use({}, (engine) =>
    Workspace.use('engine-errors', async (ws) => {
      const { writeFile } = await import('node:fs/promises');
      for (const [name, body] of Object.entries(files)) await writeFile(ws.path(name), body);
      const error = await engine.all(sql((name) => ws.path(name))).then(
        () => undefined,
        (rejected: unknown) => rejected as Error
      );
      return { error, path: ws.path(Object.keys(files)[0] ?? '') };
    })
  );

describe('Class: DuckDbEngine', () => {
  describe('Method: create', () => {
    it('spills each engine to a folder of its own, removed when it closes', async () => {
      // Prepare
      const [a, b] = await Promise.all([DuckDbEngine.create(), DuckDbEngine.create()]);
      const spillOf = async (engine: DuckDbEngine) =>
        String((await engine.all("select current_setting('temp_directory') as d"))[0]?.d);
      const [first, second] = [await spillOf(a), await spillOf(b)];

      // Act: both hold a table four times their memory limit at once, so both spill
      const fill = async (engine: DuckDbEngine) => {
        await engine.run(
          "set memory_limit = '32MB'; create temp table t as select i, repeat('x', 100) as s from range(1000000) r(i)"
        );
        return engine.scalarNumber('select count(*) from t');
      };
      const counts = await Promise.all([fill(a), fill(b)]);
      const spilled = [readdirSync(first).length > 0, readdirSync(second).length > 0];
      a.close();
      b.close();

      // Assess
      expect(first).not.toBe(second);
      expect(counts).toEqual([1_000_000, 1_000_000]);
      expect(spilled).toEqual([true, true]);
      expect([existsSync(first), existsSync(second)]).toEqual([false, false]);
    });

    it("removes a dead process's spill folder, and leaves a live one's", async () => {
      // Prepare: a process that has ended, and one that runs
      const ended = spawnSync(process.execPath, ['-e', '']).pid;
      const folder = (pid: number) => join(tmpdir(), `strata-duckdb-spill-${pid}-0-0`);
      for (const pid of [ended, process.ppid]) {
        mkdirSync(folder(pid), { recursive: true });
        writeFileSync(join(folder(pid), 'duckdb_temp_storage_S32K-0.tmp'), 'spilled');
      }

      // Act
      const engine = await DuckDbEngine.create();
      engine.close();

      // Assess
      expect(existsSync(folder(ended))).toBe(false);
      expect(existsSync(folder(process.ppid))).toBe(true);
      rmSync(folder(process.ppid), { recursive: true });
    });
  });

  describe('Method: all', () => {
    it('names the file, line and reason of a typed read that fails, without the value', async () => {
      // Prepare
      const lines = `{"id":1}\n{"id":"${SECRET}","name":"${SECRET}"}\n`;

      // Act
      const { error, path } = await rejectionOf(
        { 'a.jsonl': lines },
        (p) =>
          `select * from read_json('${p('a.jsonl')}', columns = {id: 'BIGINT'}, format = 'newline_delimited')`
      );

      // Assess
      expect(error?.message).toContain(`"${path}"`);
      expect(error?.message).toContain('line 2');
      expect(error?.message).toMatch(/^Invalid Input Error: JSON transform error/);
      expect(String(error?.stack)).not.toContain(SECRET);
    });

    it.each([
      ['a cast', () => `select cast('${SECRET}' as bigint)`],
      [
        'a JSON function on malformed input',
        () => `select json_extract_string('{"a":"${SECRET}"', '$.a')`,
      ],
      [
        'an out-of-range value',
        () => `select 99999999999999999999999::hugeint::tinyint, '${SECRET}'`,
      ],
    ])('keeps the value out of the error %s fails with', async (_, sql) => {
      // Act
      const { error } = await rejectionOf({}, sql);

      // Assess
      expect(error).toBeInstanceOf(Error);
      expect(`${error?.message} ${error?.stack} ${JSON.stringify(error)}`).not.toContain(SECRET);
    });

    it('keeps the line out of the error a line reader fails with', async () => {
      // Act
      const { error, path } = await rejectionOf(
        { 'b.txt': `${SECRET}\n` },
        (p) =>
          `select * from read_csv('${p('b.txt')}', columns = {'line': 'BIGINT'}, header = false)`
      );

      // Assess
      expect(error?.message).toMatch(/^Conversion Error: CSV Error on Line: 1/);
      expect(`${error?.message} ${error?.stack}`).not.toContain(SECRET);
      expect(path).toContain('b.txt');
    });
  });
});

describe('Class: DuckDbEngine (threads)', () => {
  it('holds DuckDB to fewer threads for a piece of work, and gives them back after it, also when it fails', async () => {
    await DuckDbEngine.use({ threads: 2 }, async (engine) => {
      // Prepare
      const threads = () => engine.scalarNumber("select current_setting('threads')");

      // Act
      const inside = await engine.withThreads(1, threads);
      const after = await threads();
      const failed = await engine
        .withThreads(1, () => engine.run('select * from no_such_table'))
        .then(
          () => undefined,
          (error: Error) => error.message
        );
      const afterFailure = await threads();
      const notRaised = await engine.withThreads(4, threads);

      // Assess
      expect([inside, after, afterFailure, notRaised]).toEqual([1, 2, 2, 2]);
      expect(failed).toMatch(/no_such_table/);
    });
  });
});

describe('Class: DuckDbEngine (memory limit)', () => {
  it('fails with Strata.Terminal naming its memory limit when work cannot fit in it', async () => {
    // Act: one list of five million numbers, which no spill can split
    const error = await DuckDbEngine.use({ threads: 1, memoryLimit: '16MB' }, (engine) =>
      engine.run('select len(list(i)) from range(5000000) t(i)').then(
        () => undefined,
        (rejected: unknown) => rejected as Error
      )
    );

    // Assess
    expect(error?.name).toBe('Strata.Terminal');
    expect(error?.message).toMatch(/^out of memory: .* memory_limit of 15\.2 MiB/);
    expect(error?.message).toContain('Out of Memory Error');
  });
});
