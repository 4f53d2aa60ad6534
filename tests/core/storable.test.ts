/**
 * The contract's promise, as a property: for arbitrary rows, either the core quarantines the row, or its
 * clean line is storable everywhere:
 * - it inserts into PostgreSQL (the local warehouse) with the contract's DDL (warehouse/raw/invoice_lines.sql);
 * - it writes to Parquet and reads back equal;
 * - its DynamoDB items are accepted by dynalite (no ValidationException).
 *
 * The rows mix valid values with the edges that once poisoned a store: NUL and other control characters,
 * text over its bound, astral characters, years 0000 to 0999 and 10000, integers past int32, decimals past
 * (18,3) and with more than 3 places, blanks.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { batchWrite } from '../../src/adapters/dynamodb.js';
import { RAW_TABLE } from '../../src/adapters/pg-warehouse.js';
import { cleanRow, isRejection } from '../../src/core/clean.js';
import { itemsForLine } from '../../src/core/dynamo-items.js';
import { resolveHeader, SOURCE_FIELDS } from '../../src/core/header.js';
import type { CleanLine } from '../../src/core/schema.js';
import { ParquetLineWriter } from '../../src/lake/parquet.js';
import { readLakeLines } from '../../src/lake/parquet-read.js';
import { type AnalyticsBench, startAnalyticsBench } from '../helpers/analytics.js';
import { type Emulators, startEmulators } from '../helpers/emulators.js';
import { ROOT } from '../helpers/stack-process.js';

/** How many rows fast-check generates: a few hundred, as the issue asks, in one run of the stand-ins. */
const RUNS = 300;
/** A new sample each run; a failure prints its seed, and PROPERTY_SEED=<seed> replays it. */
const SEED = Number(process.env['PROPERTY_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

let bench: AnalyticsBench;
let emu: Emulators;

beforeAll(async () => {
  [bench, emu] = await Promise.all([startAnalyticsBench(), startEmulators({ shards: 1 })]);
  await bench.warehouse.query(await readFile(join(ROOT, 'warehouse', 'raw', 'invoice_lines.sql'), 'utf8'));
}, 120_000);
afterAll(async () => {
  await Promise.all([bench?.stop(), emu?.stop()]);
});

/** Text that stresses the stores: control characters, astral characters, quotes, long runs. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'A\u0000B', '\u001f', '\u007f', '\ud83d\ude00', '"', "'", '\\', ' '),
  fc.integer({ min: 20, max: 400 }).map((n) => 'É'.repeat(n)),
  fc.integer({ min: 20, max: 400 }).map((n) => 'x'.repeat(n)),
);

/** Mostly a plausible value, sometimes a hostile one: so that many rows pass cleaning, and their edges are tested. */
const mostly = <T>(...arbitraries: fc.Arbitrary<T>[]) =>
  fc.oneof(
    ...arbitraries.map((arbitrary, i) => ({ arbitrary, weight: i === arbitraries.length - 1 ? 1 : 10 })),
  );

const row = fc.record({
  InvoiceNo: mostly(
    fc.integer({ min: 500_000, max: 599_999 }).map(String),
    fc.constantFrom('C536379', 'A563185'),
    hostileText,
  ),
  StockCode: mostly(fc.constantFrom('85123A', '22423', 'POST', 'D', 'M'), hostileText),
  Description: mostly(fc.constantFrom('WHITE HANGING HEART T-LIGHT HOLDER', ''), hostileText),
  Quantity: mostly(
    fc.integer({ min: -100_000, max: 100_000 }).map(String),
    fc.constantFrom('2147483647', '2147483648', '-2147483648', '-2147483649', '1e3', '1.5', '0', '00006'),
    hostileText,
  ),
  InvoiceDate: mostly(
    fc
      .date({
        min: new Date('1899-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map(
        (d) =>
          `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${d.getUTCHours()}:${String(d.getUTCMinutes()).padStart(2, '0')}`,
      ),
    fc.constantFrom(
      '0000-01-01 00:00:00',
      '0001-01-01 00:00:00',
      '0999-12-31 23:59:59',
      '9999-12-31 23:59:59',
      '10000-01-01 00:00:00',
      '1/1/0001 0:00',
      '2/30/2011 8:26',
      '2011-12-09T12:50:00Z',
    ),
    hostileText,
  ),
  UnitPrice: mostly(
    fc.integer({ min: -1_000_000, max: 10_000_000 }).map((n) => (n / 1000).toString()),
    fc.constantFrom('999999999999999.999', '1000000000000000', '0.0001', '1e300', 'NaN', '-0', '2.555'),
    hostileText,
  ),
  CustomerID: mostly(
    fc.integer({ min: 12_000, max: 18_999 }).map(String),
    fc.constantFrom('', '17850.0', '2147483648', '-1', '0'),
    hostileText,
  ),
  Country: mostly(fc.constantFrom('United Kingdom', 'Netherlands', 'EIRE'), hostileText),
});

const COLUMNS = resolveHeader(SOURCE_FIELDS);

describe('every line the core passes is storable everywhere', () => {
  it(`holds for ${RUNS} generated rows, on PostgreSQL, Parquet and dynalite`, async () => {
    // Act: clean every generated row, as the core's one entry point does per record.
    const rows = fc.sample(row, { numRuns: RUNS, seed: SEED });
    console.log(`storable: ${RUNS} rows from seed ${SEED} (PROPERTY_SEED=${SEED} replays them)`);
    const clean: CleanLine[] = [];
    let quarantined = 0;
    rows.forEach((r, i) => {
      const fields = SOURCE_FIELDS.map((f) => r[f]);
      const result = cleanRow(fields, COLUMNS, i + 2, fields.join(','));
      if (isRejection(result)) quarantined++;
      else clean.push(result);
    });

    // Assess: the sample has both outcomes, or the property says little. Over 200 seeds the clean rows
    // of a sample ran from 30 to 64 (median 47); the floor leaves room for an unlucky seed.
    expect(quarantined).toBeGreaterThan(0);
    expect(clean.length).toBeGreaterThan(RUNS / 20);

    // PostgreSQL: each line on its own COPY, so a refused line names itself.
    const refused: { line: CleanLine; error: string }[] = [];
    for (const line of clean) {
      await bench.warehouse
        .copyLines(RAW_TABLE, [line])
        .catch((e: Error) => refused.push({ line, error: e.message }));
    }
    expect(refused).toEqual([]);
    const [{ n }] = (await bench.warehouse.query(`SELECT COUNT(*) AS n FROM ${RAW_TABLE}`)) as [
      { n: string },
    ];
    expect(Number(n)).toBe(clean.length);

    // Parquet: written and read back equal.
    const writer = ParquetLineWriter.inMemory();
    for (const line of clean) writer.append(line);
    const back = await readLakeLines('property.parquet', writer.close());
    expect(back.map(({ change_version, change_kind, ...line }) => line)).toEqual(clean);

    // DynamoDB: every item of every line accepted.
    const writes = clean.flatMap((line) => itemsForLine(line));
    await expect(batchWrite(emu.dynamo, emu.config.tables, writes)).resolves.toMatchObject({
      written: expect.any(Number),
    });
  }, 300_000);
});
