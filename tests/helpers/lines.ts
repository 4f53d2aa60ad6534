import type { CleanLine } from '../../src/core/schema.js';

/**
 * A clean line as the core makes it, for tests that need lines without cleaning rows: invoice 536365's
 * first line (15.30, customer 17850), with what the test changes.
 */
export function aCleanLine(overrides: Partial<CleanLine> = {}): CleanLine {
  return {
    line_id: '0'.repeat(32),
    invoice_no: '536365',
    stock_code: '85123A',
    description: 'WHITE HANGING HEART T-LIGHT HOLDER',
    quantity: 6,
    invoice_date: '2010-12-01T08:26:00Z',
    unit_price: 2.55,
    customer_id: 17850,
    country: 'United Kingdom',
    line_total: 15.3,
    is_cancellation: false,
    is_adjustment: false,
    ...overrides,
  };
}
