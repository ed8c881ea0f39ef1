import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteIdentifier, quoteLiteral } from '@strata/core/config';
import { DuckDbEngine } from '@strata/core/engine';

/** s3rver keeps each object as `<bucket dir>/<key>._S3rver_object`. */
const OBJECT_SUFFIX = '._S3rver_object';

/** One silver dataset's rows: how many, and a hash of them that ignores their order. */
export interface DatasetHash {
  dataset: string;
  rows: number;
  hash: string;
}

/**
 * Hashes every silver dataset of a local lake order-independently: each row (its columns by
 * name, the partition keys of its path included, without `_batch_id`, which names the batch that happened to write it) hashed by DuckDB,
 * the hashes summed, so two lakes holding the same rows, in any parts, agree, and a row written
 * twice changes the sum. Compares a run that was killed and rerun with a clean one.
 *
 * @example
 * const [clickstream] = await silverHashes('.strata/s3/strata-lake');
 *
 * @param bucketDir - the lake bucket's directory (`<--dir>/s3/strata-lake`)
 */
export const silverHashes = async (bucketDir: string): Promise<DatasetHash[]> => {
  const datasets = (await readdir(join(bucketDir, 'silver'), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return DuckDbEngine.use({}, async (engine) => {
    const hashes: DatasetHash[] = [];
    for (const dataset of datasets) {
      const files = quoteLiteral(
        join(bucketDir, 'silver', dataset, '**', `*.parquet${OBJECT_SUFFIX}`)
      );
      const read = `read_parquet(${files}, union_by_name = true, hive_partitioning = true)`;
      const columns = (await engine.all(`describe select * from ${read}`))
        .map((row) => String(row.column_name))
        .filter((name) => name !== '_batch_id')
        .sort();
      const row = columns.map((name) => `${quoteIdentifier(name)} := ${quoteIdentifier(name)}`);
      const [summary] = await engine.all(
        `select count(*) as n, sum(hash(struct_pack(${row.join(', ')}))::hugeint)::varchar as h from ${read}`
      );
      hashes.push({ dataset, rows: Number(summary?.n), hash: String(summary?.h) });
    }
    return hashes;
  });
};
