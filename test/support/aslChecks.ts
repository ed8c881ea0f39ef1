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
 * with full jitter; a Lambda Task retries the Lambda service's transient errors but never
 * States.Timeout, which Step Functions raises while the invocation may still run (a retry would
 * run beside it); a top-level Task catches, a Distributed Map may not (an uncaught failure
 * leaves the execution where RedriveExecution resumes its Map Run); a Task that
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
    const distributed =
      (state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig
        ?.Mode === 'DISTRIBUTED';
    if (!insideMap && !distributed && catchers.length === 0) problems.push(`${name}: no Catch`);
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
      requiring(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']);
      for (const error of errors.filter((error) => CHILD_ENDED.includes(error))) {
        problems.push(`${name}: Retry on ${error} would run beside the invocation still running`);
      }
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

/**
 * Each function's timeout in seconds, read from the stacks' text as `stageFunction('<Name>', …,
 * { timeout: '<n> minutes'` (stacks/ cannot be evaluated here, see unboundPlaceholders).
 *
 * @param stacksSource - the text of every stacks/*.ts file
 */
export const functionTimeouts = (stacksSource: string): Map<string, number> =>
  new Map(
    [...stacksSource.matchAll(/stageFunction\(\s*'(\w+)',[^{]*\{\s*timeout: '(\d+) minutes'/g)].map(
      (match) => [match[1] as string, Number(match[2]) * 60]
    )
  );

/**
 * Lambda Tasks whose TimeoutSeconds does not exceed their function's timeout: Step Functions
 * would give up (States.Timeout) while the function still runs, and whatever follows, a retry
 * included, would run beside it. Over the function's timeout, Lambda ends the invocation first
 * and the Task fails with the function's own error.
 *
 * @param states - a template's `States`, placeholders unfilled
 * @param timeouts - each function's timeout in seconds (functionTimeouts)
 */
export const lambdaTimeoutProblems = (
  states: States,
  timeouts: ReadonlyMap<string, number>
): string[] =>
  allStates(states).flatMap(({ name, state }) => {
    if (state.Resource !== 'arn:aws:states:::lambda:invoke') return [];
    const fn = /^\$\{(\w+)FunctionArn\}$/.exec(
      String((state.Parameters as { FunctionName?: unknown }).FunctionName)
    )?.[1];
    const limit = fn === undefined ? undefined : timeouts.get(fn);
    if (limit === undefined) return [`${name}: no timeout found for its function in stacks/`];
    const timeout = state.TimeoutSeconds as number | undefined;
    return timeout !== undefined && timeout > limit
      ? []
      : [`${name}: TimeoutSeconds ${timeout ?? 60} does not exceed ${fn}'s timeout of ${limit} s`];
  });
