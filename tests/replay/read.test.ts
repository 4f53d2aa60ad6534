import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPLAY_ERROR_CODES, ReplayError } from '../../src/replay/errors.js';
import { type RowLine, readRows } from '../../src/replay/read.js';

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const GOOD = '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom';
const BAD = '536365,71053,WHITE METAL LANTERN,6x,12/1/2010 8:26,3.39,17850,United Kingdom';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-replay-read-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string, limit = Number.POSITIVE_INFINITY) {
  const seen: { header: string[]; rows: { raw: string; line: RowLine | null }[] } = { header: [], rows: [] };
  await readRows(path, limit, {
    header: (raw) => seen.header.push(raw),
    row: (raw, line) => seen.rows.push({ raw, line }),
    afterChunk: async () => undefined,
    stopped: () => false,
  });
  return seen;
}

describe('readRows', () => {
  it('hands over the header and every row of a gzip file in order, with what the core made of it', async () => {
    // Prepare
    const path = join(dir, 'rows.csv.gz');
    await writeFile(path, gzipSync(`${HEADER}\n${GOOD}\n${BAD}\n`));
    // Act
    const seen = await readAll(path);
    // Assess
    expect(seen.header).toEqual([HEADER]);
    expect(seen.rows.map((r) => r.raw)).toEqual([GOOD, BAD]);
    expect(seen.rows[0]?.line?.invoiceNo).toBe('536365');
    expect(seen.rows[0]?.line?.lineId).toMatch(/^[0-9a-f]+$/);
    expect(seen.rows[1]?.line).toBeNull();
  });

  it('stops after `limit` data rows', async () => {
    const path = join(dir, 'rows.csv');
    await writeFile(path, `${HEADER}\n${GOOD}\n${BAD}\n${GOOD}\n`);
    const seen = await readAll(path, 1);
    expect(seen.rows.map((r) => r.raw)).toEqual([GOOD]);
  });

  it('refuses an empty file and a missing file as bad input', async () => {
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, '');
    await expect(readAll(empty)).rejects.toThrow(`${empty}: the file is empty`);
    const missing = join(dir, 'missing.csv');
    const error = await readAll(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayError);
    expect((error as ReplayError).code).toBe(REPLAY_ERROR_CODES.bad_input);
    expect((error as ReplayError).message).toMatch(/cannot read .*missing\.csv/);
  });
});
