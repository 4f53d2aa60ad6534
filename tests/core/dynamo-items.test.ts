import {
  customerLineItem,
  DYNAMODB_KEY_LIMITS,
  invoiceLineItem,
  invoiceStockItem,
  itemsForLine,
  keyPart,
  lineFromItem,
  lineSkPrefix,
  writeKey,
} from '../../src/core/dynamo-items.js';
import { type CleanLine, FIELD_MAX_BYTES } from '../../src/core/schema.js';
import { aCleanLine } from '../helpers/lines.js';

const LINE: CleanLine = aCleanLine({ line_id: '0123456789abcdef0123456789abcdef' });

describe('DynamoDB items of a clean line', () => {
  it('keys the line item by invoice, stock code and line_id, with every field of the line', () => {
    expect(invoiceLineItem(LINE)).toEqual({
      pk: 'INV#536365',
      sk: 'LINE#85123A#0123456789abcdef0123456789abcdef',
      kind: 'line',
      ...LINE,
    });
    expect(invoiceLineItem(LINE).sk.startsWith(lineSkPrefix('85123A'))).toBe(true);
  });

  it('gives two lines of one stock code on one invoice two line items but one membership item', () => {
    const other = { ...LINE, line_id: 'ffffffffffffffffffffffffffffffff', quantity: 2, line_total: 5.1 };
    const keys = [LINE, other].flatMap(itemsForLine).map(writeKey);
    expect(new Set(keys).size).toBe(5); // 2 line items, 1 membership item, 2 customer items
  });

  it('indexes the membership item by stock code, newest first by date then invoice', () => {
    expect(invoiceStockItem(LINE)).toEqual({
      pk: 'INV#536365',
      sk: 'STOCK#85123A',
      kind: 'stock',
      gsi1pk: 'STOCK#85123A',
      gsi1sk: '2010-12-01T08:26:00Z#536365',
      invoice_no: '536365',
      stock_code: '85123A',
      invoice_date: '2010-12-01T08:26:00Z',
      customer_id: 17850,
      country: 'United Kingdom',
    });
  });

  it('writes a customer item for a known customer and none for a guest', () => {
    expect(customerLineItem(LINE)).toEqual({
      pk: 'CUST#17850',
      sk: '2010-12-01T08:26:00Z#536365#0123456789abcdef0123456789abcdef',
      kind: 'customer_line',
      line_id: LINE.line_id,
      invoice_no: '536365',
      invoice_date: '2010-12-01T08:26:00Z',
      country: 'United Kingdom',
      quantity: 6,
      line_total: 15.3,
      is_cancellation: false,
    });
    const guest = { ...LINE, customer_id: null };
    expect(customerLineItem(guest)).toBeNull();
    expect(itemsForLine(guest).map((w) => w.table)).toEqual(['invoices', 'invoices']);
  });

  it('escapes # and % in key parts, so one stock code is never a prefix of another', () => {
    expect(keyPart('A#B%C')).toBe('A%23B%25C');
    const hashed = invoiceLineItem({ ...LINE, stock_code: 'A#B' });
    expect(hashed.sk.startsWith(lineSkPrefix('A'))).toBe(false);
    expect(hashed.sk.startsWith(lineSkPrefix('A#B'))).toBe(true);
  });

  it('gets the clean line back from a stored line item', () => {
    expect(lineFromItem(invoiceLineItem(LINE))).toEqual(LINE);
    expect(Object.keys(lineFromItem(invoiceLineItem(LINE)))).not.toContain('pk');
  });
});

describe('key sizes', () => {
  it('stay under DynamoDB key limits for the longest values the contract allows, every byte escaped', () => {
    // Arrange: '#' is escaped to '%23', so these are the longest keys any clean line can produce.
    const worst: CleanLine = {
      ...LINE,
      invoice_no: '#'.repeat(FIELD_MAX_BYTES.invoice_no),
      stock_code: '#'.repeat(FIELD_MAX_BYTES.stock_code),
      country: '#'.repeat(FIELD_MAX_BYTES.country),
      customer_id: 2_147_483_647,
    };
    // Act
    const items = itemsForLine(worst).map((w) => w.item as unknown as Record<string, unknown>);
    // Assess
    expect(items).toHaveLength(3);
    const bytes = (v: unknown) => Buffer.byteLength(String(v ?? ''));
    for (const item of items) {
      expect(bytes(item['pk'])).toBeLessThanOrEqual(DYNAMODB_KEY_LIMITS.partitionKeyBytes);
      expect(bytes(item['sk'])).toBeLessThanOrEqual(DYNAMODB_KEY_LIMITS.sortKeyBytes);
      expect(bytes(item['gsi1pk'])).toBeLessThanOrEqual(DYNAMODB_KEY_LIMITS.partitionKeyBytes);
      expect(bytes(item['gsi1sk'])).toBeLessThanOrEqual(DYNAMODB_KEY_LIMITS.sortKeyBytes);
      // Far under, not just under: a fifth of the sort-key limit.
      expect(bytes(item['sk'])).toBeLessThan(DYNAMODB_KEY_LIMITS.sortKeyBytes / 5);
    }
  });
});
