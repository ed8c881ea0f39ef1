import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { progressPrinter } from './progress.js';

/** A history as GetExecutionHistory returns it, one event a second from 0, ids from 1. */
const history = (events: readonly (Record<string, unknown> & { at?: number })[]) =>
  events.map(
    ({ at, ...event }, index) =>
      ({
        ...event,
        id: index + 1,
        timestamp: new Date((at ?? index) * 1000),
      }) as HistoryEvent
  );

const entered = (type: string, name: string, previousEventId: number) => ({
  type: `${type}StateEntered`,
  previousEventId,
  stateEnteredEventDetails: { name, input: '{}' },
});

const exited = (type: string, name: string, previousEventId: number, output: unknown = {}) => ({
  type: `${type}StateExited`,
  previousEventId,
  stateExitedEventDetails: { name, output: JSON.stringify(output) },
});

describe('Function: progressPrinter', () => {
  it('prints AWS history as progress: finished Tasks with their results, retries, a caught failure, Map iterations indented', () => {
    // Prepare: a Task retried once then caught, a Map of two iterations, a Task that succeeds
    const events = history([
      { type: 'ExecutionStarted', previousEventId: 0 }, // 1
      entered('Task', 'PlanBacklog', 1), // 2
      { type: 'TaskScheduled', previousEventId: 2 }, // 3
      { type: 'TaskStarted', previousEventId: 3 }, // 4
      {
        type: 'TaskFailed',
        previousEventId: 4,
        taskFailedEventDetails: { error: 'Strata.Transient', cause: 'slow down' },
      }, // 5
      { type: 'TaskScheduled', previousEventId: 5 }, // 6
      { type: 'TaskStarted', previousEventId: 6 }, // 7
      {
        type: 'TaskFailed',
        previousEventId: 7,
        taskFailedEventDetails: { error: 'Strata.Terminal', cause: 'no' },
      }, // 8
      exited('Task', 'PlanBacklog', 8), // 9
      entered('Map', 'Extract', 9), // 10
      {
        type: 'MapIterationStarted',
        previousEventId: 10,
        mapIterationStartedEventDetails: { name: 'Extract', index: 0 },
      }, // 11
      entered('Task', 'ExtractEntity', 11), // 12
      {
        type: 'MapIterationStarted',
        previousEventId: 10,
        mapIterationStartedEventDetails: { name: 'Extract', index: 1 },
      }, // 13
      entered('Task', 'ExtractEntity', 13), // 14
      exited('Task', 'ExtractEntity', 14, { entity: 'orders', rows: 3000, parts: 1 }), // 15
      exited('Task', 'ExtractEntity', 12, { entity: 'region', rows: 5, parts: 1 }), // 16
      {
        type: 'MapIterationSucceeded',
        previousEventId: 16,
        mapIterationSucceededEventDetails: { index: 0 },
      }, // 17
      {
        type: 'MapIterationSucceeded',
        previousEventId: 15,
        mapIterationSucceededEventDetails: { index: 1 },
      }, // 18
      { type: 'MapStateSucceeded', previousEventId: 18 }, // 19
      { ...exited('Map', 'Extract', 19), at: 30 }, // 20
      entered('Task', 'SilverToGold', 20), // 21
      { type: 'TaskScheduled', previousEventId: 21 }, // 22
      { type: 'TaskSucceeded', previousEventId: 22 }, // 23
      {
        ...exited('Task', 'SilverToGold', 23, {
          gold: { models: [{ model: 'ml_features', rows: 300 }] },
        }),
        at: 25.5,
      }, // 24
    ]);
    const lines: string[] = [];

    // Act
    const print = progressPrinter((line) => lines.push(line));
    for (const event of events) print(event);

    // Assess
    expect(lines).toEqual([
      '✗ PlanBacklog: Strata.Transient: slow down',
      '  ↻ PlanBacklog: retry 1',
      '✗ PlanBacklog: Strata.Terminal: no',
      '→ PlanBacklog: caught, taking the failure branch',
      '▶ Extract',
      '  ✓ ExtractEntity  orders: 3,000 rows in 1 part(s)  (1.00s)',
      '  ✓ ExtractEntity  region: 5 rows in 1 part(s)  (4.00s)',
      '✓ Extract  (21.00s)',
      '✓ SilverToGold  ml_features: 300 rows  (5.50s)',
    ]);
  });
});
