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

/** Problems with Retry/Catch on Task and Map states, as readable strings. */
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
    if (state.Resource === 'arn:aws:states:::lambda:invoke') {
      const errors = retry.flatMap((rule) => rule.ErrorEquals);
      for (const required of [
        'Lambda.ServiceException',
        'Lambda.TooManyRequestsException',
        'States.Timeout',
      ]) {
        if (!errors.includes(required)) problems.push(`${name}: Retry misses ${required}`);
      }
      for (const rule of retry) {
        if (!((rule.BackoffRate ?? 2) > 1)) problems.push(`${name}: Retry without backoff`);
        if (rule.JitterStrategy !== 'FULL') problems.push(`${name}: Retry without full jitter`);
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
