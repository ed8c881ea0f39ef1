// Builds a function the way SST 4.x does for `sst deploy` (pkg/runtime/node/build.go and
// platform/src/components/aws/function.ts at v4.17.0): esbuild to `<Name>-src/bundle.mjs`, the
// `copyFiles` under that root and the `nodejs.install` packages in its node_modules/.
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { type LambdaBuild, NATIVE_PACKAGES } from '../../stacks/lambdas.js';
import type { Finding } from './typecheck.js';

/** Packages SST always leaves external (build.go, forceExternal). */
const FORCE_EXTERNAL = ['sharp', 'pg-native'];

/** SST's banner: `require`, `__filename` and `__dirname` for ESM bundles of CommonJS code. */
const BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  'const require = topLevelCreateRequire(import.meta.url);',
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  'const __filename = topLevelFileUrlToPath(import.meta.url)',
  'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
  '',
].join('\n');

/** A built function: where its bundle is and what its build found wrong. */
export interface BuiltLambda {
  /** The bundle's root, what SST zips. */
  dir: string;
  /** `<dir>/bundle.mjs`. */
  bundle: string;
  /** The export Lambda calls. */
  exportName: string;
  findings: Finding[];
}

/** The package an import names: `@scope/name/sub` → `@scope/name`. */
const packageOf = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Packages the written bundle (after tree shaking) leaves to node_modules/ at run time. */
const externalPackages = (metafile: Metafile): Set<string> =>
  new Set(
    Object.values(metafile.outputs).flatMap((output) =>
      output.imports
        .filter((i) => i.external && !isBuiltin(i.path) && !i.path.startsWith('.'))
        .map((i) => packageOf(i.path))
    )
  );

/**
 * Bundles one function into `<out>/<name>-src/`. The native packages are linked from the
 * project's node_modules, where SST runs `npm install` for Lambda's platform: the module set is
 * the same, the binaries differ (linux-arm64 in the deployed zip).
 *
 * @param root - the project root
 * @param out - where bundles go; outside the project, so no parent node_modules/ resolves what
 *   the bundle's own node_modules/ lacks
 * @param name - the function's logical name
 * @param spec - its handler, install list and copyFiles
 */
export const bundleLambda = async (
  root: string,
  out: string,
  name: string,
  spec: LambdaBuild
): Promise<BuiltLambda> => {
  const dir = join(out, `${name}-src`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const dot = spec.handler.lastIndexOf('.');
  const entry = join(root, `${spec.handler.slice(0, dot)}.ts`);
  const bundle = join(dir, 'bundle.mjs');
  const built = await build({
    entryPoints: [entry],
    platform: 'node',
    external: [...FORCE_EXTERNAL, ...spec.install, ...NATIVE_PACKAGES],
    keepNames: true,
    bundle: true,
    metafile: true,
    outfile: bundle,
    sourcemap: 'linked',
    format: 'esm',
    // runtime nodejs22.x
    target: 'es2023',
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    logLevel: 'silent',
    absWorkingDir: root,
  }).catch((error: Error & { errors?: { text: string; location?: { file: string } }[] }) => ({
    failed: (error.errors ?? [{ text: error.message }]).map(
      (e) => `${name}: bundling fails: ${e.text}${e.location ? ` (${e.location.file})` : ''}`
    ),
  }));
  if ('failed' in built) return { dir, bundle, exportName: '', findings: built.failed };
  const findings: Finding[] = [];
  const external = externalPackages(built.metafile);
  for (const pkg of external) {
    if (!spec.install.includes(pkg as never)) {
      findings.push(`${name}: imports ${pkg}, which it neither bundles nor installs`);
    }
  }
  for (const pkg of spec.install) {
    if (!external.has(pkg)) findings.push(`${name}: installs ${pkg}, which it never imports`);
  }
  for (const file of spec.copyFiles ?? []) {
    await cp(join(root, file.from), join(dir, file.to), { recursive: true });
  }
  if (spec.install.length > 0) {
    // SST pins each package to the version package.json depends on, or "*" (the latest).
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const dependencies = Object.fromEntries(
      spec.install.map((pkg) => [pkg, manifest.dependencies?.[pkg] ?? '*'])
    );
    for (const [pkg, version] of Object.entries(dependencies)) {
      if (!/^\d+\.\d+\.\d+/.test(version)) {
        findings.push(`${name}: installs ${pkg}@${version}; pin it in package.json dependencies`);
      }
      const link = join(dir, 'node_modules', pkg);
      await mkdir(dirname(link), { recursive: true });
      await symlink(join(root, 'node_modules', pkg), link, 'dir');
    }
    await writeFile(join(dir, 'package.json'), `${JSON.stringify({ dependencies })}\n`);
  }
  return { dir, bundle, exportName: spec.handler.slice(dot + 1), findings };
};
