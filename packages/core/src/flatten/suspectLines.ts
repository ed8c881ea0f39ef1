import { maskRejected } from './stageBatch.js';
import { strictRejection } from './strictJson.js';
import type { StagedBatch } from './types.js';

/**
 * Masks the lines of the batch's fast files that Node's scan flagged (no whole object on the
 * line, or a pattern DuckDB reads less strictly than RFC 8259) and `JSON.parse` refuses: they
 * go to quarantine, and the records of each JSON Lines file are its other lines.
 *
 * @param batch - the staged batch, its files unmasked
 */
export const maskSuspectLines = async (batch: StagedBatch) => {
  for (const object of batch.objects.filter(
    (o) => o.path === 'fast' && (o.info.suspect.length || o.info.unusual.length)
  )) {
    const suspect = new Set([...object.info.suspect, ...object.info.unusual]);
    const masked = await maskRejected(batch, object, (line, bytes) =>
      suspect.has(line) ? strictRejection(bytes.toString('utf8')) : undefined
    );
    await masked.use();
  }
  // The lines that are left must all be records, or the read fails; the batch's count check
  // compares their sum with the rows the Parquet files hold.
  for (const object of batch.objects.filter(
    (o) => o.path === 'fast' && o.info.layout === 'lines'
  )) {
    object.records = object.info.lines - object.rejected;
  }
};

/** Takes back what {@link maskSuspectLines} did, for another write to start from the staged files. */
export const unmaskLines = async (batch: StagedBatch) => {
  for (const object of batch.objects) {
    Object.assign(object, { read: object.info.path, masked: [], records: 0, rejected: 0 });
  }
  await batch.engine.run('delete from slow_rejected');
};
