import { SOURCE_FIELDS } from '../../src/core/header.js';
import type { SourceRow } from '../../src/core/row-objects.js';
import {
  decodeRecord,
  ENVELOPE_VERSIONS,
  encodeEnvelope,
  PACK_SLICE_ROWS,
  PACKED_RECORD_MAX_BYTES,
  packEnvelopes,
  packEnvelopesInSlices,
  type RowToPack,
} from '../../src/stream/envelope.js';
import { EnvelopeError } from '../../src/stream/errors.js';

const ROW: SourceRow = {
  InvoiceNo: '536365',
  StockCode: '85123A',
  Description: 'WHITE HANGING HEART T-LIGHT HOLDER',
  Quantity: '6',
  InvoiceDate: '12/1/2010 8:26',
  UnitPrice: '2.55',
  CustomerID: '17850',
  Country: 'United Kingdom',
};

/** A row of `invoice` at `line`, with a stock code that tells the rows apart. */
function toPack(invoice: string, line: number): RowToPack {
  return { partitionKey: invoice, line, row: { ...ROW, InvoiceNo: invoice, StockCode: `S${line}` } };
}

describe('version 1 envelopes (one row a record)', () => {
  it('round-trip as JSON { v, request_id, line, row }', () => {
    const bytes = encodeEnvelope({ v: 1, request_id: 'r1', line: 2, row: ROW });
    expect(JSON.parse(bytes.toString())).toEqual({ v: 1, request_id: 'r1', line: 2, row: ROW });
    expect(decodeRecord(bytes)).toEqual({
      lines: [{ request_id: 'r1', line: 2, row: ROW }],
      malformed: [],
      version: 0,
      requestId: 'r1',
      change: null,
    });
  });

  it('fill absent row fields with empty text', () => {
    const { Description: _d, CustomerID: _c, ...partial } = ROW;
    const decoded = decodeRecord(
      Buffer.from(JSON.stringify({ v: 1, request_id: 'r', line: 1, row: partial })),
    );
    expect(decoded.lines[0]!.row.Description).toBe('');
    expect(decoded.lines[0]!.row.CustomerID).toBe('');
  });

  it.each([
    ['not json', 'record is not JSON'],
    ['[1]', 'record is not a JSON object'],
    ['{"v":4,"request_id":"r","line":1,"row":{}}', 'record version 4 is not one of 1, 2, 3'],
    ['{"v":1,"line":1,"row":{}}', 'record has no request_id string'],
    ['{"v":1,"request_id":"r","line":0,"row":{}}', 'record line 0 is not a positive integer'],
    ['{"v":1,"request_id":"r","line":1,"row":{"Quantity":6}}', 'row field Quantity is number, not a string'],
    [
      '{"v":2,"request_id":"r","fields":["Nope"],"lines":[]}',
      'record fields ["Nope"] are not source field names',
    ],
    ['{"v":2,"request_id":"r","fields":["InvoiceNo"],"lines":[]}', 'record has no lines array'],
  ])('refuse %s', (text, message) => {
    expect(() => decodeRecord(Buffer.from(text))).toThrow(EnvelopeError);
    expect(() => decodeRecord(Buffer.from(text))).toThrow(message);
  });
});

describe('version 2 envelopes (packed)', () => {
  it('pack in slices to the same records, in the same order, pausing at invoice ends', async () => {
    // Arrange: 6,000 rows over 1,200 invoices, their rows interleaved.
    const rows = Array.from({ length: 6_000 }, (_, i) => toPack(String(540_000 + (i % 1_200)), i + 2));
    let pauses = 0;
    // Act
    const sliced = await packEnvelopesInSlices(
      'req-3',
      rows,
      async () => {
        pauses++;
      },
      7,
    );
    // Assess
    expect(sliced).toEqual(packEnvelopes('req-3', rows, undefined, 7));
    expect(pauses).toBe(Math.floor(rows.length / PACK_SLICE_ROWS));
  });

  it('pack the rows of one invoice into one record keyed by it, and read back every row with its line', () => {
    // Arrange
    const rows = [toPack('536365', 2), toPack('536366', 3), toPack('536365', 4)];
    // Act
    const records = packEnvelopes('req-1', rows);
    // Assess
    expect(records.map((r) => [r.partitionKey, r.rows])).toEqual([
      ['536365', [0, 2]],
      ['536366', [1]],
    ]);
    const first = JSON.parse(records[0]!.data.toString());
    expect(first.v).toBe(ENVELOPE_VERSIONS.packed);
    expect(first.fields).toEqual(SOURCE_FIELDS);
    expect(decodeRecord(records[0]!.data)).toEqual({
      lines: [rows[0], rows[2]].map((r) => ({ request_id: 'req-1', line: r!.line, row: r!.row })),
      malformed: [],
      version: 0,
      requestId: 'req-1',
      change: null,
    });
  });

  it('split an invoice over several records when its rows pass the bound, keeping every row once', () => {
    // Arrange: 1,114 rows, the real data's largest invoice.
    const rows = Array.from({ length: 1_114 }, (_, i) => toPack('581219', i + 2));
    // Act
    const records = packEnvelopes('req-2', rows, 16 * 1024);
    // Assess
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) expect(r.data.byteLength).toBeLessThanOrEqual(16 * 1024);
    const lines = records.flatMap((r) => decodeRecord(r.data).lines.map((l) => l.line));
    expect(lines).toEqual(rows.map((r) => r.line));
    expect(records.flatMap((r) => r.rows)).toEqual(rows.map((_, i) => i));
  });

  it('keep the default bound far under the Kinesis record limit', () => {
    expect(PACKED_RECORD_MAX_BYTES).toBeLessThanOrEqual((1024 * 1024) / 8);
  });

  it('read a record written with another field order by its own fields list', () => {
    // Arrange: a future writer that puts Country first.
    const fields = ['Country', ...SOURCE_FIELDS.filter((f) => f !== 'Country')];
    const entry = [5, ...fields.map((f) => ROW[f as keyof SourceRow])];
    const data = Buffer.from(JSON.stringify({ v: 2, request_id: 'r', fields, lines: [entry] }));
    // Act
    const decoded = decodeRecord(data);
    // Assess
    expect(decoded.lines).toEqual([{ request_id: 'r', line: 5, row: ROW }]);
  });

  it('keep the good rows of a record with one bad entry, and name the bad one', () => {
    // Arrange
    const good = [2, ...SOURCE_FIELDS.map((f) => ROW[f])];
    const bad = [3, ...SOURCE_FIELDS.map(() => 6)];
    const data = Buffer.from(
      JSON.stringify({ v: 2, request_id: 'r', fields: SOURCE_FIELDS, lines: [good, bad, 'x'] }),
    );
    // Act
    const decoded = decodeRecord(data);
    // Assess
    expect(decoded.lines.map((l) => l.line)).toEqual([2]);
    expect(decoded.malformed).toEqual([
      { line: 3, raw: JSON.stringify(bad), message: 'row field InvoiceNo is number, not a string' },
      { line: null, raw: '"x"', message: `entry is not [line, ...${SOURCE_FIELDS.length} values]` },
    ]);
  });
});
