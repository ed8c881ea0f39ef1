// Type-checks sst.config.ts and stacks/ against SST's real platform types (.sst/platform, see
// platform.ts) and @pulumi/aws, and refuses APIs those types mark deprecated.
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

/** A problem in one of our files, as `file:line:col message`. */
export type Finding = string;

/** Modules the check is worthless without: unresolved, `aws` and `$util` would be `any`. */
const REQUIRED_MODULES = ['@pulumi/aws', '@pulumi/pulumi'];

const where = (root: string, file: ts.SourceFile, position: number): string => {
  const { line, character } = file.getLineAndCharacterOfPosition(position);
  return `${relative(root, file.fileName)}:${line + 1}:${character + 1}`;
};

/** The platform's own sources are not ours to fix (and miss providers we do not use). */
const isOurs = (root: string, file: string): boolean => {
  const path = relative(root, file);
  return !path.startsWith(`.sst${sep}`) && !path.split(sep).includes('node_modules');
};

/** Every use of a declaration its types mark `@deprecated`, e.g. `aws.s3.BucketV2`. */
const deprecatedUses = (root: string, checker: ts.TypeChecker, file: ts.SourceFile): Finding[] => {
  const found: Finding[] = [];
  const visit = (node: ts.Node) => {
    const name = ts.isPropertyAccessExpression(node)
      ? node.name
      : ts.isPropertyAssignment(node) && ts.isIdentifier(node.name)
        ? node.name
        : undefined;
    if (name) {
      let symbol = checker.getSymbolAtLocation(name);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      // @pulumi/aws exports each resource as `const X: typeof import('./x').X`, so the tag sits
      // on the class the constructed value's type names.
      const constructed = ts.isNewExpression(node.parent) && node.parent.expression === node;
      const symbols = constructed
        ? [symbol, checker.getTypeAtLocation(name).getSymbol()]
        : [symbol];
      const tag = symbols
        .flatMap((s) => s?.getJsDocTags(checker) ?? [])
        .find((t) => t.name === 'deprecated');
      if (tag) {
        const why = ts.displayPartsToString(tag.text) || 'deprecated';
        found.push(`${where(root, file, name.getStart())} ${name.text}: ${why}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
};

/** Calls that take a file path, which a deploy resolves against Pulumi's program directory. */
const PATH_TAKERS = /^(FileAsset|FileArchive|readFileSync|readFile|existsSync)$/;

/**
 * Every path written as a relative literal where a file is read or uploaded: SST runs the
 * program from under .sst/, so such a path names nothing at deploy time; `$asset()` and
 * `$cli.paths.root` join the project root.
 */
const relativePaths = (root: string, file: ts.SourceFile): Finding[] => {
  const found: Finding[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && node.arguments?.[0]) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isIdentifier(callee)
          ? callee.text
          : '';
      const [path] = node.arguments;
      const literal =
        ts.isStringLiteral(path) || ts.isNoSubstitutionTemplateLiteral(path)
          ? path.text
          : ts.isTemplateExpression(path)
            ? path.head.text
            : undefined;
      if (PATH_TAKERS.test(name) && literal !== undefined && !literal.startsWith('/')) {
        found.push(
          `${where(root, file, path.getStart())} ${name}(${path.getText()}): a relative path ` +
            'resolves under .sst/ at deploy time; use $asset() or $cli.paths.root'
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
};

/**
 * Type errors, deprecated APIs and relative file paths in sst.config.ts and stacks/
 * (tsconfig.aws.json).
 *
 * @param root - the project root, with .sst/platform in place
 */
export const typecheckStacks = (root: string): Finding[] => {
  const configPath = join(root, 'tsconfig.aws.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    }
  );
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const checker = program.getTypeChecker();
  const findings: Finding[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const missing = REQUIRED_MODULES.find((m) => text.includes(`Cannot find module '${m}'`));
    if (missing) findings.push(`${missing} does not resolve: the platform types would be any`);
    if (d.file && !isOurs(root, d.file.fileName)) continue;
    findings.push(d.file ? `${where(root, d.file, d.start ?? 0)} ${text}` : text);
  }
  for (const file of program.getSourceFiles()) {
    if (isOurs(root, file.fileName) && !file.isDeclarationFile) {
      findings.push(...deprecatedUses(root, checker, file), ...relativePaths(root, file));
    }
  }
  if (!program.getSourceFiles().some((f) => f.fileName.endsWith('.sst/platform/config.d.ts'))) {
    findings.push('sst.config.ts does not reference .sst/platform/config.d.ts');
  }
  return [...new Set(findings)];
};
