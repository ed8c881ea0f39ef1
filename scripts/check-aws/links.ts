// sst-env.d.ts is written by hand (SST regenerates it only on `sst dev` / `sst deploy`, which
// cannot run here): it must declare exactly the links the stacks create, or handlers type-check
// against resources a deploy does not give them.
import { join } from 'node:path';
import ts from 'typescript';
import type { Finding } from './typecheck.js';

/** `Resource.<Name>` and its property names as sst-env.d.ts declares them (without `type`). */
const declaredLinks = (root: string): Map<string, string[]> => {
  const path = join(root, 'sst-env.d.ts');
  const source = ts.createSourceFile(path, ts.sys.readFile(path) ?? '', ts.ScriptTarget.Latest);
  const declared = new Map<string, string[]>();
  const visit = (node: ts.Node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'Resource') {
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) || !member.type || !ts.isTypeLiteralNode(member.type)) {
          continue;
        }
        const properties = member.type.members
          .map((m) => m.name?.getText(source) ?? '')
          .filter((name) => name !== 'type')
          .sort();
        declared.set(member.name.getText(source), properties);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return declared;
};

/**
 * Links the stacks create that sst-env.d.ts lacks or declares otherwise, and links it declares
 * that no stack creates.
 *
 * @param root - the project root
 * @param links - each rendered sst.Linkable's name and property names
 */
export const linkFindings = (root: string, links: ReadonlyMap<string, string[]>): Finding[] => {
  const declared = declaredLinks(root);
  const findings: Finding[] = [];
  for (const [name, properties] of links) {
    const types = declared.get(name);
    if (!types) findings.push(`sst-env.d.ts: no Resource.${name}, which stacks/ links`);
    else if (types.join() !== properties.join()) {
      findings.push(
        `sst-env.d.ts: Resource.${name} declares ${types.join(', ')}; stacks/ links ${properties.join(', ')}`
      );
    }
  }
  for (const name of declared.keys()) {
    if (!links.has(name)) findings.push(`sst-env.d.ts: Resource.${name} is linked by no stack`);
  }
  return findings;
};
