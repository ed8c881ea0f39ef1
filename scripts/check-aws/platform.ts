// SST's platform (its components and their Pulumi types) as `sst install` lays it out under
// .sst/platform, without the network: the sst binary that `npm ci` installed embeds the platform,
// and copies it out before it tries to download Pulumi and the providers, which fails offline.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** The installed `sst` package's version: the platform the binary embeds is this one. */
const sstVersion = async (root: string): Promise<string> =>
  (
    JSON.parse(await readFile(join(root, 'node_modules/sst/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/**
 * `.sst/platform/config.d.ts` as `sst install` writes it for an app whose only provider is its
 * `aws` home (pkg/project/install.go, writeTypes): the `aws` global is @pulumi/aws, which
 * package.json pins to the version the platform's own package.json names.
 */
const CONFIG_TYPES = `import "./src/global.d.ts"
import "../types.generated"
import { AppInput, App, Config } from "./src/config"
import * as _aws from "@pulumi/aws";


declare global {
  // @ts-expect-error
  export import aws = _aws
  interface Providers {
    providers?: {
      "aws"?:  (_aws.ProviderArgs & { package?: string, version?: string }) | string;
    }
  }
  export const $config: (
    input: Omit<Config, "app"> & {
      app(input: AppInput): Promise<Omit<App, "providers"> & Providers> | (Omit<App, "providers"> & Providers);
    },
  ) => Config;
}
`;

/**
 * Writes SST's platform to `<root>/.sst/platform` unless the installed version is already there,
 * and returns the platform's package.json dependencies (to compare with ours).
 *
 * @param root - the project root
 */
export const extractPlatform = async (root: string): Promise<Record<string, string>> => {
  const platform = join(root, '.sst', 'platform');
  const version = await sstVersion(root);
  const present = await readFile(join(platform, 'version'), 'utf8').catch(() => '');
  if (present !== version) {
    const scratch = await mkdtemp(join(tmpdir(), 'strata-sst-platform-'));
    try {
      // A config with no stacks: SST builds it before it copies the platform.
      await writeFile(
        join(scratch, 'sst.config.ts'),
        "export default $config({ app: () => ({ name: 'platform', home: 'aws' }), async run() {} });\n"
      );
      const binary = require.resolve(`sst-${process.platform}-${process.arch}/bin/sst`);
      // Exits non-zero once it reaches the provider install, which needs the network.
      await run(binary, ['install'], {
        cwd: scratch,
        env: {
          ...process.env,
          SST_STAGE: 'check',
          SST_SKIP_DEPENDENCY_CHECK: '1',
          SST_NO_BUN: '1',
          SST_TELEMETRY_DISABLED: '1',
          DO_NOT_TRACK: '1',
          npm_config_offline: 'true',
        },
        timeout: 120_000,
      }).catch(() => undefined);
      const copied = await readFile(join(scratch, '.sst/platform/version'), 'utf8').catch(() => '');
      if (copied !== version) {
        throw new Error(`sst ${version} did not write its platform (found "${copied}")`);
      }
      await rm(platform, { recursive: true, force: true });
      await mkdir(join(root, '.sst'), { recursive: true });
      await cp(join(scratch, '.sst/platform'), platform, { recursive: true });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  await writeFile(join(platform, 'config.d.ts'), CONFIG_TYPES);
  await writeFile(join(root, '.sst', 'types.generated.ts'), 'export {};\n');
  const manifest = JSON.parse(await readFile(join(platform, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return manifest.dependencies;
};
