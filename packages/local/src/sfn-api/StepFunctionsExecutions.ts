import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';

/**
 * A name for an execution the CLI starts: a prefix and the time, unique per start and within
 * the 80 characters AWS allows for any feed name.
 *
 * @param prefix - e.g. `backfill-payments`
 */
export const executionName = (prefix: string): string =>
  `${prefix}-${new Date().toISOString().replace(/[:.]/g, '-')}`;

/** How an execution the CLI followed ended, as DescribeExecution and ListMapRuns tell it. */
export type FollowedExecution = { executionArn: string } & (
  | { status: 'SUCCEEDED'; output: unknown }
  | {
      status: 'FAILED' | 'TIMED_OUT' | 'ABORTED';
      error: string;
      cause: string;
      /** The ARNs of its Map Runs that failed, the last one last. */
      failedMapRuns: string[];
    }
);

export interface StepFunctionsExecutionsOptions {
  /** The Step Functions client: the local served API's endpoint, or AWS's. */
  client: SFNClient;
  /** The stage whose state machines run: `strata-<stage>-<machine>`, `local` for the runtime's. */
  stage: string;
  /** How often a followed execution's history is read again. */
  pollMs: number;
}

/**
 * Starts the state machines of one stage by their file names and follows each execution to its
 * end through the Step Functions API: the one code path of the CLI, whether the API is the
 * embedded runtime's (`strata-local-…`) or AWS's (`strata-<stage>-…`, as stacks/ names them).
 *
 * @example
 * const executions = new StepFunctionsExecutions({ client, stage: 'local', pollMs: 100 });
 * const ended = await executions.run('backfill', { name, input, onEvent: print });
 */
export class StepFunctionsExecutions {
  readonly #options: StepFunctionsExecutionsOptions;
  readonly #arns = new Map<string, Promise<string>>();

  constructor(options: StepFunctionsExecutionsOptions) {
    this.#options = options;
  }

  /**
   * The ARN of the stage's state machine built from statemachines/<machine>.asl.json, found by
   * its name; an error naming the stage when it is not deployed.
   *
   * @param machine - the ASL file's name, e.g. `backfill`
   */
  stateMachineArn(machine: string): Promise<string> {
    let arn = this.#arns.get(machine);
    if (!arn) {
      arn = this.#find(`strata-${this.#options.stage}-${machine}`);
      this.#arns.set(machine, arn);
    }
    return arn;
  }

  async #find(name: string): Promise<string> {
    let nextToken: string | undefined;
    do {
      const page = await this.#options.client.send(new ListStateMachinesCommand({ nextToken }));
      const found = page.stateMachines?.find((machine) => machine.name === name);
      if (found?.stateMachineArn) return found.stateMachineArn;
      nextToken = page.nextToken;
    } while (nextToken);
    throw new Error(
      `no state machine ${name}: is stage ${this.#options.stage} deployed in this account and region?`
    );
  }

  /**
   * Starts an execution and follows it to its end, handing each history event to `onEvent` as
   * it appears.
   *
   * @param machine - the ASL file's name
   * @param request - the execution's name and input, and who hears its events
   */
  async run(
    machine: string,
    request: { name: string; input: unknown; onEvent?: (event: HistoryEvent) => void }
  ): Promise<FollowedExecution> {
    const { client, pollMs } = this.#options;
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn: await this.stateMachineArn(machine),
        name: request.name,
        input: JSON.stringify(request.input),
      })
    );
    if (!executionArn) throw new Error(`StartExecution of ${machine} returned no execution ARN`);
    let seen = 0;
    for (;;) {
      const described = await client.send(new DescribeExecutionCommand({ executionArn }));
      // The history is read after the status, so an ended execution's last events are in it.
      const events = await this.#history(executionArn);
      for (const event of events.slice(seen)) request.onEvent?.(event);
      seen = events.length;
      if (described.status !== 'RUNNING' && described.status !== 'PENDING_REDRIVE') {
        if (described.status === 'SUCCEEDED') {
          return {
            executionArn,
            status: 'SUCCEEDED',
            output: JSON.parse(described.output ?? 'null') as unknown,
          };
        }
        return {
          executionArn,
          status: described.status as 'FAILED' | 'TIMED_OUT' | 'ABORTED',
          error: described.error ?? '',
          cause: described.cause ?? '',
          failedMapRuns: await this.#failedMapRuns(executionArn),
        };
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Every event of an execution's history so far, oldest first. */
  async #history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#options.client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken })
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  async #failedMapRuns(executionArn: string): Promise<string[]> {
    const { client } = this.#options;
    const runs: { arn: string; started: number }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListMapRunsCommand({ executionArn, nextToken }));
      for (const run of page.mapRuns ?? []) {
        if (run.mapRunArn)
          runs.push({ arn: run.mapRunArn, started: run.startDate?.getTime() ?? 0 });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    const failed: string[] = [];
    const inOrder = runs.sort((a, b) => a.started - b.started).map((run) => run.arn);
    for (const mapRunArn of inOrder) {
      const run = await client.send(new DescribeMapRunCommand({ mapRunArn }));
      if (run.status === 'FAILED') failed.push(mapRunArn);
    }
    return failed;
  }
}
