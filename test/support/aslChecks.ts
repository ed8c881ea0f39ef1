type State = Record<string, unknown> & { Type?: string };
type States = Record<string, State>;

/** Every state with its path, including those inside Map processors and Parallel branches. */
export const allStates = (
  states: States,
  path: string[] = []
): { name: string; state: State; insideMap: boolean }[] =>
  Object.entries(states).flatMap(([name, state]) => {
    const processor = (state.ItemProcessor ?? state.Iterator) as { States?: States } | undefined;
    const branches = (state.Branches ?? []) as { States: States }[];
    return [
      { name, state, insideMap: path.length > 0 },
      ...(processor?.States ? allStates(processor.States, [...path, name]) : []),
      ...branches.flatMap((branch) => allStates(branch.States, [...path, name])),
    ];
  });

/**
 * Placeholders an ASL template uses that no object key in the stacks' source binds.
 *
 * stacks/ need SST's platform (`$config`, `sst`, `aws` globals) to evaluate, which cannot be
 * installed without internet, so the binding is checked on their text: every placeholder must
 * appear as a key (`Name:`) in some stacks/*.ts file.
 */
export const unboundPlaceholders = (
  placeholders: readonly string[],
  stacksSource: string
): string[] =>
  placeholders.filter((name) => !new RegExp(`^\\s*${name}\\s*:`, 'm').test(stacksSource));

/** Errors that mean a nested execution ran and ended: retrying them would run the child again. */
const CHILD_ENDED = ['States.ALL', 'States.TaskFailed', 'States.Timeout'];

/**
 * Problems with Retry/Catch on Task and Map states, as readable strings. Every Retry backs off
 * with full jitter; a Lambda Task retries the Lambda service's transient errors; a Task that
 * runs a nested execution (`states:startExecution.sync`) sets its own timeout (the local
 * executor's default is 60 s) and retries only failures to start or follow the child, never a
 * child that ran and failed.
 */
export const retryCatchProblems = (states: States): string[] => {
  const problems: string[] = [];
  for (const { name, state, insideMap } of allStates(states)) {
    if (state.Type !== 'Task' && state.Type !== 'Map') continue;
    const retry = (state.Retry ?? []) as {
      ErrorEquals: string[];
      BackoffRate?: number;
      JitterStrategy?: string;
    }[];
    const catchers = (state.Catch ?? []) as unknown[];
    if (state.Type === 'Task' && retry.length === 0) problems.push(`${name}: no Retry`);
    // A Task inside a Map may leave catching to the Map (or catch itself, as ExtractEntity does).
    if (!insideMap && catchers.length === 0) problems.push(`${name}: no Catch`);
    for (const rule of retry) {
      if (!((rule.BackoffRate ?? 2) > 1)) problems.push(`${name}: Retry without backoff`);
      if (rule.JitterStrategy !== 'FULL') problems.push(`${name}: Retry without full jitter`);
    }
    const errors = retry.flatMap((rule) => rule.ErrorEquals);
    const requiring = (required: string[]) => {
      for (const error of required) {
        if (!errors.includes(error)) problems.push(`${name}: Retry misses ${error}`);
      }
    };
    const resource = String(state.Resource ?? '');
    if (resource === 'arn:aws:states:::lambda:invoke') {
      requiring(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'States.Timeout']);
    }
    if (resource.startsWith('arn:aws:states:::states:startExecution.sync')) {
      requiring(['StepFunctions.ExecutionLimitExceededException']);
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        problems.push(`${name}: nested execution without TimeoutSeconds`);
      }
      for (const error of errors.filter((error) => CHILD_ENDED.includes(error))) {
        problems.push(`${name}: Retry on ${error} would run the nested execution again`);
      }
    }
  }
  return problems;
};

/** `Strata.*` error names the ASL matches on that the errors module does not define. */
export const unknownErrorNames = (states: States, known: readonly string[]): string[] => {
  const used = allStates(states).flatMap(({ state }) =>
    [
      ...((state.Retry ?? []) as { ErrorEquals: string[] }[]),
      ...((state.Catch ?? []) as { ErrorEquals: string[] }[]),
    ].flatMap((rule) => rule.ErrorEquals)
  );
  return [...new Set(used.filter((name) => name.startsWith('Strata.') && !known.includes(name)))];
};
