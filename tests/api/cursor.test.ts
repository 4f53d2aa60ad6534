import { decodeCursor, encodeCursor } from '../../src/api/cursor.js';
import { BadRequestError } from '../../src/api/errors.js';

const KEY = ['pk', 'sk'] as const;

describe('pagination cursors', () => {
  it('round-trips a key as opaque base64url text', () => {
    const key = { pk: 'CUST#17850', sk: '2010-12-01T08:26:00Z#536365#abc' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'pk', 'CUST#17850', KEY)).toEqual(key);
  });

  it('is absent when no cursor is given', () => {
    expect(decodeCursor(undefined, 'pk', 'x', KEY)).toBeUndefined();
    expect(decodeCursor('', 'pk', 'x', KEY)).toBeUndefined();
  });

  it.each([
    ['garbage', 'not base64 JSON'],
    [Buffer.from('{"v":2,"k":{"pk":"CUST#1"}}').toString('base64url'), 'another version'],
    [Buffer.from('{"v":1,"k":{"pk":"CUST#2"}}').toString('base64url'), 'another partition'],
    [Buffer.from('{"v":1,"k":{"pk":"CUST#1","sk":{"S":"x"}}}').toString('base64url'), 'a non-scalar key'],
    [
      Buffer.from('{"v":1,"k":{"pk":"CUST#1","sk":"a","extra":"b"}}').toString('base64url'),
      'an extra attribute',
    ],
    [Buffer.from('{"v":1,"k":{"pk":"CUST#1"}}').toString('base64url'), 'no sk'],
    [Buffer.from('{"v":1,"k":{"pk":"CUST#1","sk":7}}').toString('base64url'), 'a number for sk'],
    [Buffer.from('{"v":1,"k":{"pk":"CUST#1","gsi1pk":"a"}}').toString('base64url'), 'another key schema'],
  ])('refuses %s (%s)', (cursor) => {
    expect(() => decodeCursor(cursor, 'pk', 'CUST#1', KEY)).toThrow(BadRequestError);
  });
});
