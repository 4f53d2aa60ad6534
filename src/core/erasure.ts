/**
 * Customer erasure, the pure part: what an erased line becomes, how the customer is named in the record
 * of the erasure, and that record's shape. The stores are rewritten by src/erasure/erase.ts; the design is
 * in docs/erasure.md.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { lineId } from './clean.js';
import { type InvoiceLineItem, lineSkPrefix } from './dynamo-items.js';
import type { CleanLine } from './schema.js';

/** The fields lineId hashes: enough of a line (of any store's row) to re-key it. */
export type KeyedFields = Pick<
  CleanLine,
  'invoice_no' | 'stock_code' | 'description' | 'quantity' | 'invoice_date' | 'unit_price' | 'country'
>;

/**
 * The line_id the line would have had as a guest line: the same values with no CustomerID. The old id is a
 * hash over the CustomerID too, so keeping it would keep a value from which the id can be recovered by
 * trying every id; the new one is exactly what the cleaning gives the same row without a CustomerID.
 */
export function guestLineId(line: KeyedFields): string {
  return lineId(
    line.invoice_no,
    line.stock_code,
    line.description,
    line.quantity,
    line.invoice_date,
    // unit_price is exact to thousandths (the contract); rounding undoes the binary representation.
    Math.round(line.unit_price * 1000),
    null,
    line.country,
  );
}

/**
 * The guest line an erased line becomes: every field of `row` copied (columns this module does not know
 * included), only `customer_id` (null) and `line_id` (re-keyed) changed.
 * @example guestLine({ ...line, customer_id: 17850 }).customer_id === null
 */
export function guestLine<T extends KeyedFields & { line_id: string; customer_id: number | null }>(
  row: T,
): T {
  return { ...row, customer_id: null, line_id: guestLineId(row) };
}

/**
 * The lake's line transform for one customer: their lines become guest lines, every other line is
 * returned as it is (the same object). `count` says how many lines it changed.
 */
export function erasingTransform(customerId: number): {
  transform: <T extends CleanLine>(line: T) => T;
  count: () => number;
} {
  let changed = 0;
  return {
    transform<T extends CleanLine>(line: T): T {
      if (line.customer_id !== customerId) return line;
      changed++;
      return guestLine(line);
    },
    count: () => changed,
  };
}

/** A CustomerID as the API and the CLI take it: a non-negative int32, in digits. */
export function parseCustomerId(text: string): number | null {
  if (!/^\d{1,10}$/.test(text)) return null;
  const id = Number(text);
  return id <= 2_147_483_647 ? id : null;
}

/** The bytes of an erasure key: at least this many (HMAC-SHA256's block is 64; 32 random bytes suffice). */
export const ERASURE_KEY_MIN_BYTES = 32;

/** The prefix of a customer hash: names the function, so a later change of function is visible. */
export const CUSTOMER_HASH_PREFIX = 'hmac-sha256:';

/**
 * The customer's name in the record: HMAC-SHA256 of the id under a secret key. A plain SHA-256 of a
 * five-digit id is undone by hashing the 100,000 candidates; without the key, the HMAC cannot be. With the
 * key, whoever holds it can still test a given id ("was 17850 erased?"), which is what the record is for.
 * @example customerHash(key, 17850) // 'hmac-sha256:3f1c...' (64 hex digits)
 */
export function customerHash(key: Uint8Array, customerId: number): string {
  if (key.byteLength < ERASURE_KEY_MIN_BYTES) {
    throw new RangeError(
      `the erasure key is ${key.byteLength} bytes, at least ${ERASURE_KEY_MIN_BYTES} are needed`,
    );
  }
  return `${CUSTOMER_HASH_PREFIX}${createHmac('sha256', key).update(String(customerId)).digest('hex')}`;
}

/** A new random erasure key. */
export function newErasureKey(): Buffer {
  return randomBytes(ERASURE_KEY_MIN_BYTES);
}

/** What an erasure touched, store by store: counts only (see docs/erasure.md, "The record"). */
export interface ErasureTouched {
  dynamodb: {
    /** The customer's items deleted from the customers table. */
    customerItems: number;
    /** Line items of the invoices table replaced by their guest line's item. */
    lineItems: number;
    /** (invoice, stock) membership items whose customer_id was cleared. */
    stockItems: number;
  };
  lake: {
    /** Day partitions rewritten. */
    days: number;
    /** Lines re-keyed in them (copies included). */
    lines: number;
  };
  warehouse: {
    rawRows: number;
    stagingRows: number;
    /** Rows of the refresh's record of applied raw rows (staging.stored_rows) re-keyed. */
    storedRows: number;
    /** Whether the marts were rebuilt afterwards. */
    martsRefreshed: boolean;
  };
}

/**
 * The record of an erasure, kept after it: it holds the customer only as `customerHash`, never the id, and
 * only counts of what was touched, never which invoices or days (those would link the hash to the guest
 * lines the customer's history became).
 */
export interface ErasureRecord {
  erasureId: string;
  customerHash: string;
  requestedAt: string;
  finishedAt: string;
  touched: ErasureTouched;
}

/** Where records are kept, under the raw bucket (beside audit/ and quarantine/). */
export const ERASURE_RECORD_PREFIX = 'erasures/';

/** The record's key: `erasures/<erasure id>.json`. */
export function erasureRecordKey(erasureId: string): string {
  return `${ERASURE_RECORD_PREFIX}${erasureId}.json`;
}

/**
 * A new erasure id: the time (so ids sort by age) and 8 random hex digits. Nothing in it derives from the
 * customer.
 * @example erasureId(new Date('2026-12-03T17:00:00Z')) // '20261203T170000Z-1a2b3c4d'
 */
export function erasureId(now: Date, random: () => string = () => randomBytes(4).toString('hex')): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${random()}`;
}

/** What erasureId makes: the time to the second, a dash, 8 hex digits. */
export const ERASURE_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** An erasure to run, as the API sends it to the erase function (an asynchronous invocation's event). */
export interface ErasureRequest {
  erasureId: string;
  customerId: number;
  requestedAt: Date;
}

/** The request as JSON: the event the API queues for the erase function. */
export function erasureRequestEvent(request: ErasureRequest): {
  erasureId: string;
  customerId: number;
  requestedAt: string;
} {
  return {
    erasureId: request.erasureId,
    customerId: request.customerId,
    requestedAt: request.requestedAt.toISOString(),
  };
}

/**
 * The erasure request an event holds, checked field by field.
 * @throws RangeError naming the field that is missing or malformed (never echoing a customer id)
 * @example parseErasureRequest({ erasureId: '20261203T170000Z-1a2b3c4d', customerId: 17850, requestedAt: '2026-12-03T17:00:00.000Z' })
 */
export function parseErasureRequest(event: unknown): ErasureRequest {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  if (typeof e['erasureId'] !== 'string' || !ERASURE_ID_PATTERN.test(e['erasureId'])) {
    throw new RangeError('erasure request: erasureId must be an id such as 20261203T170000Z-1a2b3c4d');
  }
  const customerId = typeof e['customerId'] === 'number' ? parseCustomerId(String(e['customerId'])) : null;
  if (customerId === null) {
    throw new RangeError(
      `erasure request ${e['erasureId']}: customerId must be a CustomerID (digits, int32)`,
    );
  }
  const requestedAt =
    typeof e['requestedAt'] === 'string' ? new Date(e['requestedAt']) : new Date(Number.NaN);
  if (Number.isNaN(requestedAt.getTime())) {
    throw new RangeError(`erasure request ${e['erasureId']}: requestedAt must be an ISO 8601 time`);
  }
  return { erasureId: e['erasureId'], customerId, requestedAt };
}

/** Assembles the record; a check that no field holds the customer id is in tests/core/erasure.test.ts. */
export function erasureRecord(parts: {
  erasureId: string;
  customerHash: string;
  requestedAt: Date;
  finishedAt: Date;
  touched: ErasureTouched;
}): ErasureRecord {
  return {
    erasureId: parts.erasureId,
    customerHash: parts.customerHash,
    requestedAt: parts.requestedAt.toISOString(),
    finishedAt: parts.finishedAt.toISOString(),
    touched: parts.touched,
  };
}

/**
 * The invoices table's item for an erased line item: every attribute copied, `customer_id` cleared, and
 * `line_id` and the sort key (which contains it) re-keyed as guestLine does.
 */
export function guestLineItem<T extends InvoiceLineItem>(item: T): T {
  const line = guestLine(item);
  return { ...line, sk: `${lineSkPrefix(item.stock_code)}${line.line_id}` };
}
