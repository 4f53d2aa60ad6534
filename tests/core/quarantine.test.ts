import {
  QUARANTINE_COLUMNS,
  QUARANTINE_REASONS,
  quarantineKey,
  quarantineNamePrefix,
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

describe('quarantineKey', () => {
  it('puts every object of a source and day in one folder, the layout of the quarantine table', () => {
    expect(quarantineKey('stream', '2026-12-03', 'shardId-000000000000-4960')).toBe(
      'stream/date=2026-12-03/shardId-000000000000-4960.ndjson',
    );
    expect(quarantineNamePrefix('batch', '2026-12-03', 'abc-range-0001')).toBe(
      'batch/date=2026-12-03/abc-range-0001',
    );
  });

  it('keeps a name to one folder level, whatever it holds', () => {
    expect(quarantineKey('api', '2026-12-03', 'a/b')).toBe('api/date=2026-12-03/a_b.ndjson');
  });

  it('has a column for each field of a record, in the record order', () => {
    const record = quarantineRecord(
      { line: 1, raw: 'x', reason: 'invalid_price', field: 'UnitPrice', message: 'm' },
      { source: 'batch', object: 'in.csv' },
      new Date(0),
    );
    expect(QUARANTINE_COLUMNS.map((c) => c.name)).toEqual(Object.keys(record));
  });
});
