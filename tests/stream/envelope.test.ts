import { decodeEnvelope, encodeEnvelope } from '../../src/stream/envelope.js';
import { EnvelopeError } from '../../src/stream/errors.js';

const ROW = {
  InvoiceNo: '536365',
  StockCode: '85123A',
  Description: 'WHITE HANGING HEART T-LIGHT HOLDER',
  Quantity: '6',
  InvoiceDate: '12/1/2010 8:26',
  UnitPrice: '2.55',
  CustomerID: '17850',
  Country: 'United Kingdom',
};

describe('stream envelopes', () => {
  it('round-trip as JSON { v, request_id, line, row }', () => {
    const bytes = encodeEnvelope({ v: 1, request_id: 'r1', line: 2, row: ROW });
    expect(JSON.parse(bytes.toString())).toEqual({ v: 1, request_id: 'r1', line: 2, row: ROW });
    expect(decodeEnvelope(bytes)).toEqual({ v: 1, request_id: 'r1', line: 2, row: ROW });
  });

  it('fill absent row fields with empty text', () => {
    const { Description: _d, CustomerID: _c, ...partial } = ROW;
    const decoded = decodeEnvelope(
      Buffer.from(JSON.stringify({ v: 1, request_id: 'r', line: 1, row: partial })),
    );
    expect(decoded.row.Description).toBe('');
    expect(decoded.row.CustomerID).toBe('');
  });

  it.each([
    ['not json', 'record is not JSON'],
    ['[1]', 'record is not a JSON object'],
    ['{"v":2,"request_id":"r","line":1,"row":{}}', 'record version 2 is not 1'],
    ['{"v":1,"request_id":"r","line":0,"row":{}}', 'record line 0 is not a positive integer'],
    ['{"v":1,"request_id":"r","line":1,"row":{"Quantity":6}}', 'row field Quantity is number, not a string'],
  ])('refuse %s', (text, message) => {
    expect(() => decodeEnvelope(Buffer.from(text))).toThrow(EnvelopeError);
    expect(() => decodeEnvelope(Buffer.from(text))).toThrow(message);
  });
});
