import { describe, expect, it } from 'vitest';
import { DISTRIBUTED_MAP_RESOURCE, rewriteDistributedMaps } from './rewriteDistributedMaps.js';
import type { DistributedMapState } from './shapes.js';

const distributedMap = {
  Type: 'Map',
  InputPath: '$.plan',
  ItemsPath: '$.objects',
  ItemSelector: { 'key.$': '$$.Map.Item.Value' },
  ItemProcessor: {
    ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
    StartAt: 'Work',
    States: { Work: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
  },
  ResultSelector: { 'count.$': '$.length' },
  ResultPath: '$.results',
  OutputPath: '$.results',
  Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1 }],
  Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }],
  Next: 'Done',
};

describe('Function: rewriteDistributedMaps', () => {
  it('replaces a nested Distributed Map with a Task that keeps its paths, Retry and Catch but not ItemSelector', () => {
    // Prepare
    const states = {
      Both: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'Backfill', States: { Backfill: distributedMap } }],
        End: true,
      },
    };
    const maps = new Map<string, DistributedMapState>();

    // Act
    const rewritten = rewriteDistributedMaps(states, maps);

    // Assess
    const [branch] = (rewritten.Both as { Branches: { States: Record<string, unknown> }[] })
      .Branches;
    expect(branch?.States.Backfill).toEqual({
      Type: 'Task',
      Resource: DISTRIBUTED_MAP_RESOURCE,
      InputPath: '$.plan',
      ResultSelector: { 'count.$': '$.length' },
      ResultPath: '$.results',
      OutputPath: '$.results',
      Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }],
      Next: 'Done',
      TimeoutSeconds: 2_000_000,
    });
    expect(maps.get('Backfill')).toEqual(distributedMap);
    expect(states.Both.Branches[0]?.States.Backfill).toBe(distributedMap);
  });

  it('leaves an inline Map as it is', () => {
    // Prepare
    const inline = {
      ...distributedMap,
      ItemProcessor: { ...distributedMap.ItemProcessor, ProcessorConfig: { Mode: 'INLINE' } },
    };
    const maps = new Map<string, DistributedMapState>();

    // Act
    const rewritten = rewriteDistributedMaps({ Each: inline }, maps);

    // Assess
    expect(rewritten.Each).toEqual(inline);
    expect(maps.size).toBe(0);
  });
});
