/**
 * The snapshot's pure parts: the last delivery's time carried from snapshot to snapshot, and the
 * warehouse's timestamp text in the contract's ISO form. The queries run on PostgreSQL in
 * tests/local/live-refresh.test.ts and through the Data API in tests/handlers/refresh.test.ts.
 */
import { ANALYTICS_ERROR_CODES } from '../../src/analytics/errors.js';
import { DASHBOARD_SNAPSHOT_VERSION, type DashboardSnapshot } from '../../src/dashboard/contract.js';
import { lastDeliveryAt, timestampText } from '../../src/dashboard/snapshot.js';

/** A snapshot whose warehouse held `rawLines`, last delivered at `at`. */
function previous(rawLines: number, at: string | null): DashboardSnapshot {
  return {
    version: DASHBOARD_SNAPSHOT_VERSION,
    refreshedAt: '2026-12-04T09:00:00.000Z',
    warehouse: { rawLines, stagingLines: rawLines, newestInvoiceAt: null, lastDeliveryAt: at },
    dailyCountryRevenue: [],
    productCountrySales: [],
    monthlyCountryRevenue: [],
    cancellations: [],
    rfmSegments: [],
  };
}

const NOW = '2026-12-04T10:00:00.000Z';

describe('lastDeliveryAt', () => {
  it('is null while raw is empty', () => {
    expect(lastDeliveryAt(0, NOW, undefined)).toBeNull();
    expect(lastDeliveryAt(0, NOW, previous(0, null))).toBeNull();
  });

  it('is this refresh when raw grew since the previous snapshot, or there is none', () => {
    expect(lastDeliveryAt(10, NOW, undefined)).toBe(NOW);
    expect(lastDeliveryAt(10, NOW, null)).toBe(NOW);
    expect(lastDeliveryAt(12, NOW, previous(10, '2026-12-04T09:00:00.000Z'))).toBe(NOW);
  });

  it("keeps the previous snapshot's time when raw did not grow", () => {
    expect(lastDeliveryAt(10, NOW, previous(10, '2026-12-04T09:00:00.000Z'))).toBe(
      '2026-12-04T09:00:00.000Z',
    );
  });
});

describe('timestampText', () => {
  it("turns the engines' TIMESTAMP text into ISO 8601 UTC", () => {
    expect(timestampText('2011-12-09 12:50:00')).toBe('2011-12-09T12:50:00Z');
    expect(timestampText('2011-12-09 12:50:00.000')).toBe('2011-12-09T12:50:00Z');
  });

  it('refuses what is not a timestamp, naming it', () => {
    expect(() => timestampText('yesterday')).toThrow(
      expect.objectContaining({
        code: ANALYTICS_ERROR_CODES.snapshot_row_invalid,
        message: expect.stringContaining('"yesterday"'),
      }),
    );
  });
});
