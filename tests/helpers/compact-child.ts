/**
 * Runs compaction in a child process against s3rver and stops it between writing a partition's new
 * objects and deleting its inputs: it prints `written <keys>` and waits to be killed (SIGKILL: nothing
 * after the write runs), so a test can check what the next run makes of the state a crash leaves.
 */

import { s3LakeStore } from '../../src/adapters/lake-store.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { compactLake } from '../../src/lake/compact.js';

export async function run([endpoint, bucket, prefix, years]: string[]): Promise<void> {
  const s3 = createS3Client({ region: 'us-east-1', endpoints: { s3: endpoint! } });
  await compactLake(s3LakeStore(s3, bucket!, prefix!, JSON.parse(years!)), {
    prefix: prefix!,
    minAgeMs: 0,
    afterWrite: async (_partition, written) => {
      process.stdout.write(`written ${written.join(' ')}\n`);
      await new Promise(() => setInterval(() => {}, 1_000));
    },
  });
}
