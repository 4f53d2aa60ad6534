import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { REPLAY_ERROR_CODES, ReplayError } from '../../src/replay/errors.js';
import { type RowLine, readRows, STDIN_FILE } from '../../src/replay/read.js';

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

async function readAll(
  path: string,
  limit = Number.POSITIVE_INFINITY,
  stdin: AsyncIterable<Uint8Array> = Readable.from([]),
) {
  const seen: {
    header: string[];
    rows: { raw: string; line: RowLine | null }[];
    progress: [number, number][];
  } = { header: [], rows: [], progress: [] };
  await readRows(
    path,
    limit,
    {
      header: (raw) => seen.header.push(raw),
      row: (raw, line) => seen.rows.push({ raw, line }),
      afterChunk: async (bytesRead, totalBytes) => {
        seen.progress.push([bytesRead, totalBytes]);
      },
      stopped: () => false,
    },
    stdin,
  );
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

  it('reads `-` from standard input as it arrives, a row split across chunks and gzip included', async () => {
    // Prepare: the text in three chunks, the second cutting a row in two.
    const text = `${HEADER}\n${GOOD}\n${BAD}\n`;
    const cut = HEADER.length + 10;
    const chunks = [text.slice(0, cut), text.slice(cut, cut + 40), text.slice(cut + 40)].map((c) =>
      Buffer.from(c),
    );
    // Act
    const plain = await readAll(STDIN_FILE, Number.POSITIVE_INFINITY, Readable.from(chunks));
    const gzipped = await readAll(STDIN_FILE, Number.POSITIVE_INFINITY, Readable.from([gzipSync(text)]));
    // Assess: the same rows as from a file; the size is known once the input ends.
    for (const seen of [plain, gzipped]) {
      expect(seen.header).toEqual([HEADER]);
      expect(seen.rows.map((r) => r.raw)).toEqual([GOOD, BAD]);
      expect(seen.rows[0]?.line?.invoiceNo).toBe('536365');
      expect(seen.rows[1]?.line).toBeNull();
    }
    expect(plain.progress.at(-1)).toEqual([text.length, text.length]);
  });

  it('refuses an empty standard input as bad input, naming stdin', async () => {
    const error = await readAll(STDIN_FILE, Number.POSITIVE_INFINITY, Readable.from([])).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReplayError);
    expect((error as ReplayError).code).toBe(REPLAY_ERROR_CODES.bad_input);
    expect((error as ReplayError).message).toBe('stdin: the file is empty');
  });
});
