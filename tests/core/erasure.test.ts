import { createHash } from 'node:crypto';
import { cleanRow, isRejection } from '../../src/core/clean.js';
import { invoiceLineItem, lineSkPrefix } from '../../src/core/dynamo-items.js';
import {
  CUSTOMER_HASH_PREFIX,
  customerHash,
  ERASURE_KEY_MIN_BYTES,
  ERASURE_RECORD_PREFIX,
  erasingTransform,
  erasureId,
  erasureRecord,
  erasureRecordKey,
  guestLine,
  guestLineItem,
  newErasureKey,
  parseCustomerId,
} from '../../src/core/erasure.js';
import { CANONICAL_COLUMNS } from '../../src/core/row-objects.js';
import type { CleanLine } from '../../src/core/schema.js';

function clean(customer: string): CleanLine {
  const fields = [
    '536365',
    '85123A',
    'WHITE HANGING HEART T-LIGHT HOLDER',
    '6',
    '2010-12-01 08:26:00',
    '2.55',
    customer,
    'United Kingdom',
  ];
  const line = cleanRow(fields, CANONICAL_COLUMNS, 2, fields.join(','));
  if (isRejection(line)) throw new Error(line.message);
  return line;
}

describe('guestLine', () => {
  it('is exactly the line the cleaning gives the same row without a CustomerID', () => {
    // Prepare
    const known = clean('17850');
    // Act
    const erased = guestLine(known);
    // Assess
    expect(erased).toEqual(clean(''));
    expect(erased.line_id).not.toBe(known.line_id);
  });

  it('re-keys prices that binary floating point cannot hold exactly (0.29, 1.1, 8.5)', () => {
    for (const price of ['0.29', '1.1', '8.5', '0.001', '1001.995']) {
      const row = (customer: string) => {
        const fields = ['C536379', 'D', 'Discount', '-1', '2010-12-01 09:41:00', price, customer, 'France'];
        const line = cleanRow(fields, CANONICAL_COLUMNS, 2, fields.join(','));
        if (isRejection(line)) throw new Error(line.message);
        return line;
      };
      expect(guestLine(row('14527')).line_id).toBe(row('').line_id);
    }
  });

  it('keeps every other field of the row, those it does not know included', () => {
    const row = { ...clean('17850'), version: '20261203T170000Z-000001', change: 'upsert' };
    const erased = guestLine(row);
    expect(erased).toEqual({ ...row, customer_id: null, line_id: clean('').line_id });
  });

  it('leaves a guest line as it is (an erasure run twice changes nothing the second time)', () => {
    const guest = clean('');
    expect(guestLine(guest)).toEqual(guest);
  });
});

describe('guestLineItem', () => {
  it('re-keys the sort key with the line id and keeps the other attributes', () => {
    const item = { ...invoiceLineItem(clean('17850')), version: 7 };
    const erased = guestLineItem(item);
    const guest = clean('');
    expect(erased).toEqual({ ...invoiceLineItem(guest), version: 7 });
    expect(erased.sk).toBe(`${lineSkPrefix('85123A')}${guest.line_id}`);
  });
});

describe('erasingTransform', () => {
  it("changes only the customer's lines and counts them", () => {
    const theirs = clean('17850');
    const others = clean('13047');
    const guest = clean('');
    const erasing = erasingTransform(17850);
    expect([theirs, others, guest].map(erasing.transform)).toEqual([guest, others, guest]);
    expect(erasing.transform(others)).toBe(others);
    expect(erasing.count()).toBe(1);
  });
});

describe('customerHash', () => {
  const key = Buffer.alloc(ERASURE_KEY_MIN_BYTES, 7);

  it('is HMAC-SHA256 under the key: stable for one key, different under another', () => {
    const hash = customerHash(key, 17850);
    expect(hash).toMatch(new RegExp(`^${CUSTOMER_HASH_PREFIX}[0-9a-f]{64}$`));
    expect(customerHash(key, 17850)).toBe(hash);
    expect(customerHash(Buffer.alloc(ERASURE_KEY_MIN_BYTES, 8), 17850)).not.toBe(hash);
    expect(customerHash(key, 17851)).not.toBe(hash);
  });

  it('cannot be undone by hashing every five-digit id without the key', () => {
    // Prepare: what an attacker without the key computes.
    const hash = customerHash(key, 17850).slice(CUSTOMER_HASH_PREFIX.length);
    // Act
    let found: number | null = null;
    for (let id = 10_000; id < 100_000 && found === null; id++) {
      if (createHash('sha256').update(String(id)).digest('hex') === hash) found = id;
    }
    // Assess
    expect(found).toBeNull();
  });

  it('refuses a key shorter than the minimum', () => {
    expect(() => customerHash(Buffer.alloc(ERASURE_KEY_MIN_BYTES - 1), 17850)).toThrow(/at least 32/);
    expect(newErasureKey().byteLength).toBe(ERASURE_KEY_MIN_BYTES);
  });
});

describe('the erasure record', () => {
  const touched = {
    dynamodb: { customerItems: 312, lineItems: 312, stockItems: 290 },
    lake: { days: 35, lines: 312 },
    warehouse: { rawRows: 312, stagingRows: 312, storedRows: 313, martsRefreshed: true },
  };

  it('has an id, the times, the hash and counts of what was touched', () => {
    const key = newErasureKey();
    const id = erasureId(new Date('2026-12-03T17:00:00.123Z'), () => '1a2b3c4d');
    const record = erasureRecord({
      erasureId: id,
      customerHash: customerHash(key, 17850),
      requestedAt: new Date('2026-12-03T17:00:00.123Z'),
      finishedAt: new Date('2026-12-03T17:00:04Z'),
      touched,
    });
    expect(id).toBe('20261203T170000Z-1a2b3c4d');
    expect(record).toEqual({
      erasureId: id,
      customerHash: customerHash(key, 17850),
      requestedAt: '2026-12-03T17:00:00.123Z',
      finishedAt: '2026-12-03T17:00:04.000Z',
      touched,
    });
    expect(erasureRecordKey(id)).toBe(`${ERASURE_RECORD_PREFIX}${id}.json`);
  });

  it('holds no customer id, in any field, whichever id and key', () => {
    for (const customer of [17850, 12346, 0, 99999]) {
      const record = erasureRecord({
        erasureId: erasureId(new Date()),
        customerHash: customerHash(newErasureKey(), customer),
        requestedAt: new Date(),
        finishedAt: new Date(),
        touched,
      });
      const values = JSON.stringify(record).match(/"[^"]*"|\d+/g) ?? [];
      const ids = values.filter((v) => v.replace(/"/g, '') === String(customer));
      // Counts are numbers of items, days and rows; the test's counts are chosen not to collide.
      expect({ customer, ids }).toEqual({ customer, ids: [] });
      expect(Object.keys(record).sort()).toEqual(
        ['customerHash', 'erasureId', 'finishedAt', 'requestedAt', 'touched'].sort(),
      );
    }
  });
});

describe('parseCustomerId', () => {
  it('takes non-negative int32 digits and nothing else', () => {
    expect(parseCustomerId('17850')).toBe(17850);
    expect(parseCustomerId('0')).toBe(0);
    for (const bad of ['', '-1', '17850.0', 'abc', '2147483648', ' 17850', '1e4']) {
      expect({ bad, id: parseCustomerId(bad) }).toEqual({ bad, id: null });
    }
  });
});
