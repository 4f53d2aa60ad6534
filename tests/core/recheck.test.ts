import { planRecheck } from '../../src/core/recheck.js';
import { CSV_ROWS, JSON_ROWS } from '../helpers/retail-rows.js';

const GOOD_CSV = CSV_ROWS[0]!;
const GOOD_JSON = JSON.stringify(JSON_ROWS[0]);

describe('planRecheck', () => {
  it("posts again the rows that clean under today's rules, CSV and JSON alike, each line once", () => {
    // Prepare: rows quarantined under older rules (the reasons no longer hold), one of them twice.
    const rows = [
      { raw: GOOD_CSV, reason: 'invalid_date' as const },
      { raw: GOOD_CSV, reason: 'invalid_date' as const },
      { raw: GOOD_JSON, reason: 'invalid_customer_id' as const },
    ];
    // Act
    const plan = planRecheck(rows);
    // Assess
    expect(plan.csv.records).toEqual([GOOD_CSV, GOOD_CSV]);
    expect(plan.csv.header).toBe(
      'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
    );
    expect(plan.json).toEqual([JSON.parse(GOOD_JSON)]);
    expect(plan.lines.map((l) => l.invoice_no)).toEqual(['536365', String(JSON_ROWS[0]!.InvoiceNo)]);
    expect(plan.stillRefused).toEqual({});
  });

  it('counts rows still refused by their reason today, and skips what it cannot recheck', () => {
    const rows = [
      { raw: GOOD_CSV.replace(',6,', ',6x,'), reason: 'invalid_quantity' as const },
      { raw: '536365,85123A,only three', reason: 'wrong_column_count' as const },
      { raw: '{"v":9}', reason: 'malformed_record' as const },
    ];
    const plan = planRecheck(rows);
    expect(plan.csv.records).toEqual([]);
    expect(plan.stillRefused).toEqual({ invalid_quantity: 1 });
    expect(plan.skipped).toEqual({ stream_reason: 1, needs_header: 1 });
  });
});
