// The deploy workflow must deploy only what CI passed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Finding } from './typecheck.js';

/**
 * `.github/workflows/deploy.yml` triggers on the `ci` workflow's completion (not on a push, which
 * would race CI), deploys only on its success and checks out the commit CI tested.
 *
 * @param root - the project root
 */
export const deployWorkflowFindings = async (root: string): Promise<Finding[]> => {
  const text = await readFile(join(root, '.github/workflows/deploy.yml'), 'utf8');
  const on = /^on:\n((?:[ \t]+.*\n|\n)*)/m.exec(text)?.[1] ?? '';
  const findings: Finding[] = [];
  if (/^\s+push:/m.test(on)) findings.push('deploy.yml: deploys on push, without waiting for CI');
  if (!/workflow_run:\s*\n\s+workflows: \[ci\]/.test(on)) {
    findings.push('deploy.yml: not triggered by the ci workflow (workflow_run)');
  }
  if (!text.includes("github.event.workflow_run.conclusion == 'success'")) {
    findings.push("deploy.yml: does not require CI's success");
  }
  if (!text.includes('github.event.workflow_run.head_sha')) {
    findings.push('deploy.yml: does not deploy the commit CI tested (head_sha)');
  }
  return findings;
};
