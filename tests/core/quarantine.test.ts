import {
  QUARANTINE_REASONS,
  quarantineRecord,
  ROW_REASONS,
  STREAM_REASONS,
} from '../../src/core/quarantine.js';

describe('the quarantine contract', () => {
  it('builds one record shape for every origin, with only the contract fields', () => {
    // Prepare
    const row = {
      line: 7,
      raw: '536365,85123A,x,6x,2010-12-01 08:26,2.55,17850,United Kingdom',
      reason: QUARANTINE_REASONS.invalid_quantity,
      field: 'Quantity',
      message: 'line 7: Quantity "6x" is not a whole number',
      extra: 'dropped',
    };
    const at = new Date('2026-12-03T08:00:00Z');
    // Act
    const record = quarantineRecord(row, { source: 'api', request_id: 'r-1', stage: 'dev' }, at);
    // Assess
    expect(Object.keys(record)).toEqual([
      'origin',
      'line',
      'raw',
      'reason',
      'field',
      'message',
      'quarantined_at',
    ]);
    expect(record).toEqual({
      origin: { source: 'api', request_id: 'r-1', stage: 'dev' },
      line: 7,
      raw: row.raw,
      reason: 'invalid_quantity',
      field: 'Quantity',
      message: row.message,
      quarantined_at: '2026-12-03T08:00:00.000Z',
    });
  });

  it('lists every reason once; a row of a file or body can have all but the stream-only ones', () => {
    const all = Object.values(QUARANTINE_REASONS);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain('malformed_row');
    expect([...ROW_REASONS, ...STREAM_REASONS].sort()).toEqual([...all].sort());
  });
});
