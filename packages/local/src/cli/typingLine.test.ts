import { typingReport } from '@strata/core/flatten';
import { describe, expect, it } from 'vitest';
import { typingLine } from './typingLine.js';

describe('Function: typingLine', () => {
  it('says the shares of leaves by place and the widest shape', () => {
    // Prepare
    const typing = typingReport({ feed: 'webhooks', runId: 'r' }, [
      {
        leaves: { typed: 958, child: 40, json: 2, variant: 0 },
        widest: [
          {
            keys: ['action', 'comment', 'issue', 'repository'],
            keyCount: 4,
            leafPaths: 1812,
            leaves: 900,
            sampled: 3,
            example: 'raw/webhooks/a.jsonl',
          },
        ],
      },
    ]);

    // Act
    const line = typingLine(typing);

    // Assess
    expect(line).toBe(
      'webhooks: 99.8% of 1,000 leaves typed (95.8% in its columns, 4.0% in child tables), 0.2% JSON text, 0.0% _variant; widest shape: 4 top-level key(s) (action, comment, issue, …), 1,812 leaf paths'
    );
  });

  it('says the total is about so when leaves in JSON text were extrapolated', () => {
    // Prepare
    const typing = typingReport({ feed: 'f', runId: 'r' }, [
      { leaves: { typed: 1, child: 0, json: 3, variant: 0 }, estimated: true, widest: [] },
    ]);

    // Act
    const line = typingLine(typing);

    // Assess
    expect(line).toMatch(/^f: 25\.0% of about 4 leaves typed/);
  });

  it('leaves the shape out when no batch sampled a line', () => {
    // Act
    const line = typingLine(typingReport({ feed: 'f', runId: 'r' }, []));

    // Assess
    expect(line).toBe(
      'f: 0.0% of 0 leaves typed (0.0% in its columns, 0.0% in child tables), 0.0% JSON text, 0.0% _variant'
    );
  });
});
