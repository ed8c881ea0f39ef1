import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Every TypeScript source file (tests aside) under `dir`. */
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });

/** The project files a module imports by relative path, type-only imports included. */
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^;]*?from '(\.[^']+)\.js';/gms)].map(
    (match) => resolve(dirname(file), `${match[1]}.ts`)
  );

/** One import cycle of the graph, as the files on it, or none. */
const findCycle = (graph: Map<string, string[]>): string[] | undefined => {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = graph.has(next) ? visit(next) : undefined;
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
};

describe('import graph', () => {
  it('has no cycles: shared types live in modules of their own', () => {
    // Prepare
    const files = ['packages/core/src', 'packages/local/src', 'functions'].flatMap((dir) =>
      sources(join(root, dir))
    );
    const graph = new Map(files.map((file) => [file, importsOf(file)]));

    // Act
    const cycle = findCycle(graph);

    // Assess
    expect(cycle?.map((file) => file.slice(root.length + 1))).toBeUndefined();
  });

  it('finds a cycle through type-only imports', () => {
    // Prepare
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);

    // Act
    const cycle = findCycle(graph);

    // Assess
    expect(cycle).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
  });
});
