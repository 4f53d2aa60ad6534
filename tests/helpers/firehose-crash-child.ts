/**
 * Hands records to a LocalFirehoseDelivery in a child process and then waits to be killed (SIGKILL: no
 * flush, no clean-up), so a test can check what the spool lets the next run recover.
 * Prints `spooled` once every record is accepted.
 */
import { readFile } from 'node:fs/promises';
import type { PgWarehouse } from '../../src/adapters/pg-warehouse.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { LocalFirehoseDelivery } from '../../src/local/firehose-delivery.js';

export async function run([spoolDir, recordsFile]: string[]): Promise<void> {
  const delivery = new LocalFirehoseDelivery({
    // Never reached: the buffers outlive the process.
    lake: {
      stream: 'lake-stream',
      s3: createS3Client({ region: 'us-east-1', endpoints: { s3: 'http://127.0.0.1:9' } }),
      bucket: 'lake',
      prefix: 'lake/',
    },
    warehouse: { stream: 'warehouse-stream', warehouse: {} as PgWarehouse },
    bufferMs: 600_000,
    spoolDir: spoolDir!,
  });
  const records = (await readFile(recordsFile!, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => Buffer.from(`${l}\n`));
  delivery.deliver('lake-stream', records.slice(0, 3));
  delivery.deliver('warehouse-stream', records);
  delivery.deliver('lake-stream', records.slice(3));
  process.stdout.write('spooled\n');
  // Stay up, buffers full, until killed.
  setInterval(() => {}, 1_000);
}
