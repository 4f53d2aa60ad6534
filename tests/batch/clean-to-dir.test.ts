import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { cleanToDirectory } from '../../src/batch/clean-to-dir.js';
import { InputError } from '../../src/batch/errors.js';
import { STORED_COLUMN_NAMES } from '../../src/core/schema.js';
import { duckQuery } from '../helpers/duckdb.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'online-retail-dirty.csv');

describe('cleanToDirectory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ecomflow-clean-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes Parquet that DuckDB reads with the contract types, a quarantine and a report', async () => {
    // Act
    const { report, parquetPath, quarantinePath, reportPath } = await cleanToDirectory(FIXTURE, dir);
    // Assess
    const describe = await duckQuery(`DESCRIBE SELECT * FROM read_parquet('${parquetPath}')`);
    expect(describe.map((c) => [c['column_name'], c['column_type']])).toEqual([
      ['line_id', 'VARCHAR'],
      ['invoice_no', 'VARCHAR'],
      ['stock_code', 'VARCHAR'],
      ['description', 'VARCHAR'],
      ['quantity', 'INTEGER'],
      ['invoice_date', 'TIMESTAMP WITH TIME ZONE'],
      ['unit_price', 'DECIMAL(18,3)'],
      ['customer_id', 'INTEGER'],
      ['country', 'VARCHAR'],
      ['line_total', 'DECIMAL(18,3)'],
      ['is_cancellation', 'BOOLEAN'],
      ['is_adjustment', 'BOOLEAN'],
      // The lake's change columns: null in a cleaned file, which records no write.
      ['change_version', 'BIGINT'],
      ['change_kind', 'VARCHAR'],
    ]);
    const [adjustment] = await duckQuery(
      `SELECT unit_price::VARCHAR AS price, line_total::VARCHAR AS total, strftime(invoice_date, '%Y-%m-%d %H:%M:%S') AS at, customer_id
       FROM read_parquet('${parquetPath}') WHERE invoice_no = 'A563185'`,
    );
    expect(adjustment).toEqual({
      price: '-11062.060',
      total: '-11062.060',
      at: '2011-08-12 14:50:00',
      customer_id: null,
    });
    const [count] = await duckQuery(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT line_id)::INTEGER AS ids FROM '${parquetPath}'`,
    );
    expect(count).toEqual({ n: report.rows_clean, ids: report.rows_clean });

    const quarantine = (await readFile(quarantinePath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(quarantine).toHaveLength(report.quarantined);
    expect(quarantine[0]).toEqual(
      expect.objectContaining({
        line: 14,
        reason: 'invalid_quantity',
        field: 'Quantity',
        raw: expect.stringContaining('six'),
      }),
    );
    const written = JSON.parse(await readFile(reportPath, 'utf8'));
    expect(written).toMatchObject({ rows_read: 24, rows_clean: 11, duplicates: 1, quarantined: 12 });
  });

  it('writes Parquet that a second, independent reader (hyparquet) reads back exactly', async () => {
    const { parquetPath } = await cleanToDirectory(FIXTURE, dir);
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(parquetPath) });
    expect(Object.keys(rows[0]!)).toEqual(STORED_COLUMN_NAMES);
    expect(rows.every((r) => r['change_version'] === null && r['change_kind'] === null)).toBe(true);
    const pc = rows.find((r) => r['stock_code'] === '22086')!;
    expect(pc['description']).toBe("PAPER CHAIN KIT\n 50'S CHRISTMAS");
    expect(pc['quantity']).toBe(80);
  });

  it('reads gzip input by its content', async () => {
    const gz = join(dir, 'input.csv.gz');
    await writeFile(gz, gzipSync(await readFile(FIXTURE)));
    const { report } = await cleanToDirectory(gz, join(dir, 'out'));
    expect(report.rows_read).toBe(24);
  });

  it('fails with the path on a missing or corrupt input', async () => {
    await expect(cleanToDirectory(join(dir, 'nope.csv'), dir)).rejects.toThrow(InputError);
    const corrupt = join(dir, 'corrupt.csv.gz');
    await writeFile(corrupt, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not gzip at all')]));
    await expect(cleanToDirectory(corrupt, join(dir, 'out'))).rejects.toThrow(
      /corrupt\.csv\.gz: not a valid gzip file/,
    );
  });
});
