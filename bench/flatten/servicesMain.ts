// The local S3 and DynamoDB servers of a flatten workload, in a process of their own (started by
// services.ts). In AWS those servers run on no core and in no memory of the Lambda, so the
// measured process should not host them either. Prints its endpoints as one JSON line, then
// serves until its standard input closes (the parent ends it, or dies).
import { parseArgs } from 'node:util';
import { LocalDynamoDb } from '@strata/local/dynamodb';
import { LocalS3 } from '@strata/local/s3';

const { values } = parseArgs({
  options: {
    directory: { type: 'string' },
    bucket: { type: 'string' },
    tables: { type: 'string', default: '' },
  },
});
if (!values.directory || !values.bucket) throw new Error('servicesMain: --directory and --bucket');

const s3 = await LocalS3.start({ directory: values.directory, buckets: [values.bucket] });
const dynamo = await LocalDynamoDb.start({
  tables: values.tables
    .split(',')
    .filter(Boolean)
    .map((name) => ({ name, key: 'object_key' })),
});
console.log(JSON.stringify({ s3: s3.endpoint, dynamo: dynamo.endpoint }));
process.stdin.on('end', async () => {
  await dynamo.stop();
  await s3.stop();
});
process.stdin.resume();
