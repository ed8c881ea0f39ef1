// Runs stacks/ under Pulumi's mocks, with SST's globals stood in for, and returns what a deploy
// would create: every resource's inputs as the engine would receive them (outputs resolved), and
// every function's IAM policy as SST 4.17 renders its `permissions` (function.ts: one statement
// per permission, `conditions` as IAM Condition). Real @pulumi/aws resources; only SST's own
// components (Function, Linkable) are replaced, by records of their arguments.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** A resource the stacks declared, with its resolved inputs. */
export interface RenderedResource {
  type: string;
  name: string;
  /** The ARN the mocks gave it. */
  arn: string;
  inputs: Record<string, unknown>;
}

/** An IAM statement as AWS reads it. */
export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An identity's whole policy: a function's role or a service role's inline policies. */
export interface RenderedPolicy {
  /** `function:<Name>` or `role:<Name>`. */
  owner: string;
  /** The role's ARN; for a function, its function ARN. */
  arn: string;
  statements: Statement[];
}

export interface RenderedStacks {
  resources: RenderedResource[];
  policies: RenderedPolicy[];
  /** Each sst.aws.Function's arguments, resolved. */
  functions: Map<string, Record<string, unknown>>;
  /** Each sst.Linkable's name and its properties' names: what handlers see as `Resource.<Name>`. */
  links: Map<string, string[]>;
}

/** An ARN of the resource's kind, well-formed enough for the stacks' string surgery. */
const arnOf = (type: string, name: string): string => {
  const [, module] = type.split(':');
  const service = (module ?? '').split('/')[0] ?? '';
  const base = `arn:aws:${service}:${REGION}:${ACCOUNT}`;
  switch (type) {
    case 'aws:sfn/stateMachine:StateMachine':
      return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
    case 'aws:glue/catalogDatabase:CatalogDatabase':
      return `${base}:database/${name}`;
    case 'aws:s3/bucket:Bucket':
      return `arn:aws:s3:::${name}`;
    case 'aws:iam/role:Role':
      return `arn:aws:iam::${ACCOUNT}:role/${name}`;
    default:
      return `${base}:${name}`;
  }
};

/** The name the stand-in gives a function (SST derives its own; only uniqueness matters). */
export const functionName = (stage: string, name: string) => `strata-${stage}-${name}`;
const functionArn = (stage: string, name: string) =>
  `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName(stage, name)}`;

interface PermissionArgs {
  effect?: 'allow' | 'deny';
  actions: string[];
  resources: string[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

/** SST's rendering of `permissions` (iam.getPolicyDocumentOutput, one statement each). */
const statementOf = (permission: PermissionArgs): Statement => ({
  Effect: permission.effect === 'deny' ? 'Deny' : 'Allow',
  Action: permission.actions,
  Resource: permission.resources,
  ...(permission.conditions?.length
    ? {
        Condition: Object.fromEntries(
          [...new Set(permission.conditions.map((c) => c.test))].map((test) => [
            test,
            Object.fromEntries(
              permission.conditions
                ?.filter((c) => c.test === test)
                .map((c) => [c.variable, c.values]) ?? []
            ),
          ])
        ),
      }
    : {}),
});

const resolved = <T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> =>
  new Promise((resolve) => {
    pulumi.output(value).apply((v) => {
      resolve(v);
      return v;
    });
  });

/**
 * Renders stacks/ for one stage. Once per process: the stacks are modules, evaluated on import.
 *
 * @param root - the project root
 * @param stage - the SST stage, e.g. `dev` or `prod`
 */
export const renderStacks = async (root: string, stage: string): Promise<RenderedStacks> => {
  const resources: RenderedResource[] = [];
  const functions = new Map<string, Record<string, unknown>>();
  const links = new Map<string, string[]>();
  const pending: Promise<unknown>[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const physical = (args.inputs.name as string | undefined) ?? `${args.name}-${stage}`;
        const arn = arnOf(args.type, physical);
        resources.push({ type: args.type, name: args.name, arn, inputs: args.inputs });
        return {
          id: `${physical}-id`,
          state: {
            ...args.inputs,
            arn,
            name: physical,
            bucket: physical,
            url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`,
            featureGroupName: args.inputs.featureGroupName ?? physical,
            keyId: `${physical}-key-id`,
          },
        };
      },
      call: (args) => {
        if (args.token === 'aws:index/getCallerIdentity:getCallerIdentity') {
          return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: 'ci' };
        }
        if (args.token === 'aws:index/getRegion:getRegion') return { name: REGION, region: REGION };
        if (args.token === 'aws:index/getPartition:getPartition') return { partition: 'aws' };
        return {};
      },
    },
    'strata',
    stage,
    false
  );
  const aws = await import('@pulumi/aws');
  const globals = globalThis as Record<string, unknown>;
  Object.assign(globals, {
    $config: (config: unknown) => config,
    $app: { name: 'strata', stage },
    $cli: { paths: { root } },
    $util: pulumi,
    $interpolate: pulumi.interpolate,
    $jsonStringify: pulumi.jsonStringify,
    $resolve: pulumi.all,
    $asset: (path: string) => new pulumi.asset.FileAsset(join(root, path)),
    aws,
    sst: {
      Linkable: class {
        readonly properties: Record<string, unknown>;
        constructor(name: string, args: { properties: Record<string, unknown> }) {
          this.properties = args.properties;
          links.set(name, Object.keys(args.properties).sort());
        }
      },
      aws: {
        Function: class {
          readonly arn: pulumi.Output<string>;
          readonly name: pulumi.Output<string>;
          constructor(name: string, args: Record<string, unknown>) {
            this.arn = pulumi.output(functionArn(stage, name));
            this.name = pulumi.output(functionName(stage, name));
            pending.push(resolved(args).then((value) => functions.set(name, value)));
          }
        },
      },
    },
  });
  // Not a static import: sst.config.ts compiles against SST's globals, not tsconfig.json's.
  const config = (await import(pathToFileURL(join(root, 'sst.config.ts')).href)) as {
    default: { run(): Promise<unknown> };
  };
  await resolved(await config.default.run());
  await Promise.all(pending);
  // Let every registration the stacks started reach the mocks.
  for (let i = 0; i < 20; i += 1) await new Promise((r) => setTimeout(r, 10));
  const policies: RenderedPolicy[] = [
    ...[...functions].map(([name, args]) => ({
      owner: `function:${name}`,
      arn: functionArn(stage, name),
      statements: ((args.permissions ?? []) as PermissionArgs[]).map(statementOf),
    })),
    ...resources
      .filter((r) => r.type === 'aws:iam/role:Role')
      .map((r) => ({
        owner: `role:${r.name}`,
        arn: r.arn,
        statements: ((r.inputs.inlinePolicies ?? []) as { policy: string }[]).flatMap(
          (p) => (JSON.parse(p.policy) as { Statement: Statement[] }).Statement
        ),
      })),
  ];
  return { resources, policies, functions, links };
};
