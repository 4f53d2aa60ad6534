/**
 * The local lake over real Parquet on disk, as DuckDB reads s3rver's objects: a torn object is an error
 * naming it, in one line, and an empty lake still has its tables.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParquetLineWriter } from '../../src/lake/parquet.js';
import { LakeFileError } from '../../src/lake/parquet-read.js';
import { LocalLake } from '../../src/local/lake.js';
import { aCleanLine } from '../helpers/lines.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecomflow-local-lake-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function put(name: string, bytes: Uint8Array | string): string {
  const folder = join(dir, 'year=2010', 'month=12', 'day=01');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, name), bytes);
  return join(folder, name);
}

describe('LocalLake', () => {
  it('names a torn object in one line, as a LakeFileError', async () => {
    const writer = ParquetLineWriter.inMemory();
    writer.append(aCleanLine());
    const whole = writer.close();
    const torn = put('torn.parquet', whole.subarray(0, whole.length - 20));
    const opened = LocalLake.open(join(dir, '**', '*.parquet'));
    await expect(opened).rejects.toBeInstanceOf(LakeFileError);
    await expect(opened).rejects.toThrow(torn);
    await opened.catch((err: Error) => expect(err.message).not.toContain('\n'));
  });

  it('has invoice_lines and quarantine, with no rows, over an empty lake', async () => {
    const lake = await LocalLake.open(join(dir, '**', '*.parquet'));
    try {
      expect(await lake.query('SELECT COUNT(*) AS n FROM invoice_lines')).toEqual([{ n: '0' }]);
      expect(await lake.query('SELECT COUNT(*) AS n FROM quarantine')).toEqual([{ n: '0' }]);
    } finally {
      lake.close();
    }
  });
});
