import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteLiteral } from '../config/index.js';
import { DuckDbEngine } from '../engine/index.js';
import type { DuckType } from './duckType.js';
import { withMixedKinds } from './mixedKinds.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-mixed-kinds-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const JSON_TYPE: DuckType = { kind: 'scalar', name: 'JSON' };
const VARCHAR: DuckType = { kind: 'scalar', name: 'VARCHAR' };

describe('Function: withMixedKinds', () => {
  it('types 100 paths of several kinds over 300 records within 192 MB', async () => {
    // Prepare: npm's `author` 100 times over, a string in some records and an object in others;
    // an aggregate per path needs 256-512 MB here (700 paths ran out of 2 GB) and, out of
    // memory, left them all JSON. Read as JSON, each path costs DuckDB about a megabyte
    const paths = Array.from({ length: 100 }, (_, n) => `f${n}`);
    const records = Array.from({ length: 300 }, (_, r) =>
      Object.fromEntries(
        paths.map((path, n) => [
          path,
          (r + n) % 2 ? `Jane ${r} <j@x>` : { name: `Jane ${r}`, email: `j${n}@x` },
        ])
      )
    );
    const file = join(dir, 'authors.jsonl');
    await writeFile(file, records.map((record) => JSON.stringify(record)).join('\n'));
    const inferred: Extract<DuckType, { kind: 'struct' }> = {
      kind: 'struct',
      fields: paths.map((path) => [path, JSON_TYPE]),
    };

    // Act
    const typed = await DuckDbEngine.use({ threads: 1, memoryLimit: '192MB' }, (engine) =>
      withMixedKinds(
        engine,
        { files: `[${quoteLiteral(file)}]`, longest: 0 },
        inferred,
        records.slice(0, 2)
      )
    );

    // Assess: each path's objects typed field by field, beside its strings
    const author: DuckType = {
      kind: 'mixed',
      object: {
        kind: 'keyed',
        fields: [
          ['name', VARCHAR],
          ['email', VARCHAR],
        ],
      },
      scalars: true,
    };
    expect(typed.fields).toEqual(paths.map((path) => [path, author]));
  });

  it('types the objects and arrays of a nested path beside its scalars, and leaves one of a single kind', async () => {
    // Prepare
    const records = [
      { pkg: { repository: 'github:a/b', keywords: ['a'] }, n: 1 },
      { pkg: { repository: { type: 'git', url: 'https://x/b' }, keywords: [{ k: 1 }] }, n: 2 },
      { pkg: { repository: null, keywords: [{ k: 2.5 }] }, n: { x: 1 } },
    ];
    const file = join(dir, 'nested.jsonl');
    await writeFile(file, records.map((record) => JSON.stringify(record)).join('\n'));
    const inferred: Extract<DuckType, { kind: 'struct' }> = {
      kind: 'struct',
      fields: [
        [
          'pkg',
          {
            kind: 'struct',
            fields: [
              ['repository', JSON_TYPE],
              ['keywords', { kind: 'list', element: JSON_TYPE }],
            ],
          },
        ],
        ['n', JSON_TYPE],
      ],
    };

    // Act: `n`'s objects are not in the sample, so it is not asked about
    const typed = await DuckDbEngine.use({}, (engine) =>
      withMixedKinds(engine, { files: `[${quoteLiteral(file)}]`, longest: 0 }, inferred, [
        records[0],
        records[1],
      ])
    );

    // Assess
    expect(typed.fields).toEqual([
      [
        'pkg',
        {
          kind: 'struct',
          fields: [
            [
              'repository',
              {
                kind: 'mixed',
                object: {
                  kind: 'keyed',
                  fields: [
                    ['type', VARCHAR],
                    ['url', VARCHAR],
                  ],
                },
                scalars: true,
              },
            ],
            ['keywords', { kind: 'list', element: JSON_TYPE }],
          ],
        },
      ],
      ['n', JSON_TYPE],
    ]);
  });
});
