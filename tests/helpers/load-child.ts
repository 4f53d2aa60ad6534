/**
 * Runs a load in a child process, so a test can kill it mid-way (SIGKILL: no clean-up runs) and then
 * check that a re-run finishes the job. Same targets as tests/helpers/load-targets.ts.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PgWarehouse } from '../../src/adapters/pg-warehouse.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { loadFile } from '../../src/batch/load.js';
import { LAKE_BUCKET, LAKE_PREFIX } from './load-targets.js';

export async function run([file, manifestDir, warehouseUrl, s3Endpoint]: string[]): Promise<void> {
  const s3 = createS3Client({ region: 'us-east-1', endpoints: { s3: s3Endpoint! } });
  const warehouse = new PgWarehouse(warehouseUrl!);
  await loadFile(
    file!,
    {
      lake: {
        put: async (key, body) => {
          await s3.send(new PutObjectCommand({ Bucket: LAKE_BUCKET, Key: key, Body: body }));
        },
      },
      lakePrefix: LAKE_PREFIX,
      warehouse,
    },
    { manifestDir: manifestDir! },
  );
  await warehouse.close();
}
