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
