import type { DistributedMapState } from './shapes.js';

type State = Record<string, unknown>;
type States = Record<string, State>;

/**
 * The Resource of the Task that stands in for a Distributed Map. Shaped like an ARN so that the
 * library's validation (checkArn) accepts it; no real service has it.
 */
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::strata:distributedMap';

/**
 * The Map fields a Task applies the same way around its handler: the library runs InputPath
 * before the handler, and ResultSelector, ResultPath, OutputPath, Retry and Catch after it.
 * ItemSelector (and the Map's older `Parameters`) is per item, so it is NOT a Task's Parameters:
 * the handler gets the input after InputPath and applies it itself.
 */
const TASK_FIELDS = [
  'Comment',
  'InputPath',
  'ResultSelector',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
  'Next',
  'End',
] as const;

/**
 * A Task times out after 60 s in the library unless it says otherwise; a Map has no timeout.
 * The library passes the value to setTimeout, which fires at once above 2^31-1 ms (24.8 days),
 * so this is the largest round value below that rather than AWS's maximum.
 */
const MAP_TIMEOUT_SECONDS = 2_000_000;

const EMULATED_INPUT_TYPES = new Set(['JSON', 'JSONL', 'CSV']);

/** Why the emulation cannot run this map, or undefined when it can. */
const unsupported = (state: DistributedMapState): string | undefined => {
  const reader = state.ItemReader;
  if (reader && reader.Resource !== 'arn:aws:states:::s3:getObject') {
    return `ItemReader Resource ${reader.Resource} (only arn:aws:states:::s3:getObject)`;
  }
  if (reader && !EMULATED_INPUT_TYPES.has(String(reader.ReaderConfig?.InputType))) {
    return `ItemReader InputType ${reader.ReaderConfig?.InputType} (only JSON, JSONL, CSV)`;
  }
  const writer = state.ResultWriter;
  if (writer && (writer.Resource !== 'arn:aws:states:::s3:putObject' || writer.WriterConfig)) {
    return 'ResultWriter other than { Resource: arn:aws:states:::s3:putObject, Parameters }';
  }
  if ('Items' in state || 'Arguments' in state || state.QueryLanguage === 'JSONata') {
    return 'JSONata';
  }
  return undefined;
};

/** Whether a state is a Map whose ItemProcessor runs in DISTRIBUTED mode. */
export const isDistributedMap = (state: State): state is DistributedMapState =>
  state.Type === 'Map' &&
  (state.ItemProcessor as DistributedMapState['ItemProcessor'] | undefined)?.ProcessorConfig
    ?.Mode === 'DISTRIBUTED';

/**
 * Replaces every DISTRIBUTED Map state, at any depth (Map processors, Parallel branches, and the
 * processors of other Distributed Maps), with a Task on {@link DISTRIBUTED_MAP_RESOURCE} that
 * keeps the Map's InputPath, ResultSelector, ResultPath, OutputPath, Retry, Catch and Next/End.
 * The original states, their own processors rewritten likewise, are collected by name in `maps`
 * for the handlers that emulate them.
 *
 * @param states - a definition's `States`
 * @param maps - receives the Distributed Map states by name
 * @returns the rewritten `States` (the input is not changed)
 */
export const rewriteDistributedMaps = (
  states: States,
  maps: Map<string, DistributedMapState>
): States =>
  Object.fromEntries(
    Object.entries(states).map(([name, original]) => {
      let state = original;
      for (const field of ['ItemProcessor', 'Iterator'] as const) {
        const processor = state[field] as { States?: States } | undefined;
        if (processor?.States) {
          state = {
            ...state,
            [field]: { ...processor, States: rewriteDistributedMaps(processor.States, maps) },
          };
        }
      }
      if (Array.isArray(state.Branches)) {
        const branches = state.Branches as { States: States }[];
        state = {
          ...state,
          Branches: branches.map((branch) => ({
            ...branch,
            States: rewriteDistributedMaps(branch.States, maps),
          })),
        };
      }
      if (!isDistributedMap(state)) return [name, state];

      const reason = unsupported(state);
      if (reason) throw new Error(`state ${name}: ${reason} is not emulated locally`);
      if (maps.has(name)) {
        throw new Error(`state name ${name} is used twice; local execution needs unique names`);
      }
      maps.set(name, state);
      const task: State = { Type: 'Task', Resource: DISTRIBUTED_MAP_RESOURCE };
      for (const field of TASK_FIELDS) {
        if (state[field] !== undefined) task[field] = state[field];
      }
      task.TimeoutSeconds = MAP_TIMEOUT_SECONDS;
      return [name, task];
    })
  );
