import { appendFile } from 'node:fs/promises';
import type { DeadLetter, DeadLetterQueue } from '@strata/core/ports';

/**
 * The local stand-in for an SQS dead-letter queue: one JSON line per letter in a file, the
 * message body SqsDeadLetterQueue would send, and the letters in memory for tests.
 */
export class LocalDeadLetterQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];

  /** @param path - the JSONL file the letters are appended to */
  constructor(readonly path: string) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    this.letters.push(...letters);
    await appendFile(this.path, letters.map((letter) => `${JSON.stringify(letter)}\n`).join(''));
  }
}
