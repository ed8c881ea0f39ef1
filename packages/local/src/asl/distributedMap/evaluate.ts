import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

/** A JSON value as aws-local-stepfunctions types it (the library does not export the name). */
export type Json = Parameters<StateMachine['run']>[0];

/** The context object (`$$`) a template is evaluated against. */
export type ContextObject = Record<string, unknown>;

/** Evaluates a payload template or a reference path against a state input and a context. */
export type Evaluator = (input: unknown, context: ContextObject) => Promise<unknown>;

/**
 * A one-state Pass machine: the library exports no JSONPath helper, but a Pass state applies
 * `InputPath` and `Parameters` with the library's own JSONPath and intrinsic functions, so the
 * emulation reads `$`, `$$.Map.Item.Value` and `States.StringToJson(...)` exactly as every other
 * state of the execution does (including its errors, e.g. States.Runtime for a missing path).
 */
const passMachine = (pass: Record<string, unknown>): Evaluator => {
  const machine = new StateMachine({
    StartAt: 'Evaluate',
    States: { Evaluate: { Type: 'Pass', ...pass, End: true } },
  } as StateMachineDefinition);
  return async (input, context) => {
    try {
      return await machine.run(input as Json, { context }).result;
    } catch (error) {
      // Surface the state's own error (name and message), not the execution wrapper.
      throw error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
    }
  };
};

/**
 * Compiles a payload template (`ItemSelector`, `ItemReader.Parameters`, `ResultWriter.Parameters`).
 *
 * Library quirk: every run overwrites `$$.Execution.Input` with the run's input and
 * `$$.Execution.StartTime` with now, so inside these templates `$$.Execution.Input` is the state
 * input (pin the start time with `runLocalExecution({ startTime })`).
 *
 * @param template - the ASL payload template
 */
export const payloadTemplate = (template: Record<string, unknown>): Evaluator =>
  passMachine({ Parameters: template });

/**
 * Compiles a reference path (`ItemsPath`, `MaxConcurrencyPath`, ...).
 *
 * @param path - a JSONPath reference path on the state input
 */
export const referencePath = (path: string): Evaluator => passMachine({ InputPath: path });
