import { hash } from 'node:crypto';
import type { ColumnIndex, SourceField } from './header.js';
import type { RejectedRow, RowReason } from './quarantine.js';
import { type CleanLine, FIELD_MAX_BYTES, INVOICE_YEARS, SOURCE_VALUE_MAX_CHARS } from './schema.js';

/** A row that could not be cleaned, with enough context to find and fix it. */
export interface Rejection extends RejectedRow {
  /** 1-based line in the source (the physical line a CSV record starts on, or the JSON row's position). */
  line: number;
  reason: RowReason;
  field: SourceField | null;
}

export function isRejection(value: CleanLine | Rejection): value is Rejection {
  return (value as Rejection).reason !== undefined;
}

/** Non-product StockCodes: postage, fees, manual entries, samples. Compared upper-cased. */
export const NON_PRODUCT_CODES: ReadonlySet<string> = new Set([
  'POST',
  'DOT',
  'M',
  'C2',
  'D',
  'S',
  'B',
  'BANK CHARGES',
  'AMAZONFEE',
  'CRUK',
  'PADS',
]);

const INT32_MAX = 2_147_483_647;

/**
 * Cleans one source row into a line of the record contract, or says exactly why it cannot.
 *
 * @param fields the row's values, positioned as `columns` says
 * @example cleanRow(['536365','85123A','WHITE HANGING HEART T-LIGHT HOLDER','6','12/1/2010 8:26','2.55','17850','United Kingdom'], index, 2, raw)
 */
export function cleanRow(
  fields: readonly string[],
  columns: ColumnIndex,
  line: number,
  raw: string,
): CleanLine | Rejection {
  if (fields.length !== columns.width) {
    return reject(
      line,
      raw,
      'wrong_column_count',
      null,
      `has ${fields.length} fields, the header has ${columns.width}`,
    );
  }
  const p = columns.positions;
  const invoiceNo = fields[p.InvoiceNo]!.trim();
  if (invoiceNo === '') return missing(line, raw, 'InvoiceNo');
  const stockCode = fields[p.StockCode]!.trim();
  if (stockCode === '') return missing(line, raw, 'StockCode');
  const quantityText = fields[p.Quantity]!.trim();
  if (quantityText === '') return missing(line, raw, 'Quantity');
  const dateText = fields[p.InvoiceDate]!.trim();
  if (dateText === '') return missing(line, raw, 'InvoiceDate');
  const priceText = fields[p.UnitPrice]!.trim();
  if (priceText === '') return missing(line, raw, 'UnitPrice');
  const country = fields[p.Country]!.trim();
  if (country === '') return missing(line, raw, 'Country');
  const customerText = p.CustomerID === -1 ? '' : fields[p.CustomerID]!.trim();
  const descriptionText = p.Description === -1 ? '' : fields[p.Description]!.trim();
  const tooLong =
    overBound(line, raw, 'InvoiceNo', invoiceNo, FIELD_MAX_BYTES.invoice_no) ??
    overBound(line, raw, 'StockCode', stockCode, FIELD_MAX_BYTES.stock_code) ??
    overBound(line, raw, 'Description', descriptionText, FIELD_MAX_BYTES.description) ??
    overBound(line, raw, 'Country', country, FIELD_MAX_BYTES.country) ??
    overLength(line, raw, 'Quantity', quantityText) ??
    overLength(line, raw, 'InvoiceDate', dateText) ??
    overLength(line, raw, 'UnitPrice', priceText) ??
    overLength(line, raw, 'CustomerID', customerText);
  if (tooLong) return tooLong;
  const control =
    controlCharacter(line, raw, 'InvoiceNo', invoiceNo) ??
    controlCharacter(line, raw, 'StockCode', stockCode) ??
    controlCharacter(line, raw, 'Description', descriptionText) ??
    controlCharacter(line, raw, 'Country', country);
  if (control) return control;

  const quantity = parseInteger(quantityText);
  if (quantity === null) {
    return reject(
      line,
      raw,
      'invalid_quantity',
      'Quantity',
      `Quantity ${JSON.stringify(quantityText)} is not an integer`,
    );
  }
  const invoiceDate = parseInvoiceDate(dateText);
  if (invoiceDate === null) {
    return reject(
      line,
      raw,
      'invalid_date',
      'InvoiceDate',
      `InvoiceDate ${JSON.stringify(dateText)} is not a date (expected YYYY-MM-DD HH:MM[:SS], M/D/YYYY H:MM[:SS] or ISO 8601)`,
    );
  }
  const priceMilli = parseMilli(priceText);
  if (priceMilli === null) {
    return reject(
      line,
      raw,
      'invalid_price',
      'UnitPrice',
      `UnitPrice ${JSON.stringify(priceText)} is not a decimal with at most 3 places`,
    );
  }
  let customerId: number | null = null;
  if (customerText !== '') {
    customerId = parseInteger(customerText);
    if (customerId === null || customerId < 0) {
      return reject(
        line,
        raw,
        'invalid_customer_id',
        'CustomerID',
        `CustomerID ${JSON.stringify(customerText)} is not a non-negative integer`,
      );
    }
  }
  const description = descriptionText === '' ? null : descriptionText;

  const totalMilli = quantity * priceMilli;
  if (!Number.isSafeInteger(totalMilli)) {
    return reject(
      line,
      raw,
      'invalid_price',
      'UnitPrice',
      `Quantity x UnitPrice (${quantity} x ${priceText}) is out of range`,
    );
  }
  const first = invoiceNo.charCodeAt(0);
  return {
    line_id: lineId(
      invoiceNo,
      stockCode,
      description,
      quantity,
      invoiceDate,
      priceMilli,
      customerId,
      country,
    ),
    invoice_no: invoiceNo,
    stock_code: stockCode,
    description,
    quantity,
    invoice_date: invoiceDate,
    unit_price: priceMilli / 1000,
    customer_id: customerId,
    country,
    // Integer milli arithmetic is exact; dividing once at the end gives the shortest exact decimal. A
    // negative quantity at price 0 gives -0, which Parquet and JSON store as 0: the contract has one zero.
    line_total: totalMilli === 0 ? 0 : totalMilli / 1000,
    is_cancellation: first === 67, // 'C'
    is_adjustment: first === 65 /* 'A' */ || NON_PRODUCT_CODES.has(stockCode.toUpperCase()),
  };
}

/**
 * The deterministic id of a normalised line: the first 32 hex digits of SHA-256 over its values joined
 * by U+001F, with the price in thousandths and null as empty. Any engine can recompute it, e.g. Athena:
 * `substr(lower(to_hex(sha256(to_utf8(...)))), 1, 32)`.
 */
export function lineId(
  invoiceNo: string,
  stockCode: string,
  description: string | null,
  quantity: number,
  invoiceDate: string,
  priceMilli: number,
  customerId: number | null,
  country: string,
): string {
  const key = `${invoiceNo}\u001f${stockCode}\u001f${description ?? ''}\u001f${quantity}\u001f${invoiceDate}\u001f${priceMilli}\u001f${customerId ?? ''}\u001f${country}`;
  return hash('sha256', key, 'hex').slice(0, 32);
}

function reject(
  line: number,
  raw: string,
  reason: RowReason,
  field: SourceField | null,
  message: string,
): Rejection {
  return { line, raw, reason, field, message: `line ${line}: ${message}` };
}

/**
 * A `field_too_long` rejection when `text` is over `maxBytes` UTF-8 bytes, else undefined. A UTF-16 code
 * unit is one to three UTF-8 bytes, so the byte count is computed only for the rare text that needs it.
 */
/**
 * The first C0 control character other than tab, line feed and carriage return (see
 * QUARANTINE_REASONS.control_character), by its index; -1 when there is none.
 */
export function controlCharacterAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return i;
  }
  return -1;
}

function controlCharacter(
  line: number,
  raw: string,
  field: SourceField,
  text: string,
): Rejection | undefined {
  const at = controlCharacterAt(text);
  if (at === -1) return undefined;
  const code = text.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
  return reject(
    line,
    raw,
    'control_character',
    field,
    `${field} holds the control character U+${code} at position ${at + 1}`,
  );
}

function overBound(
  line: number,
  raw: string,
  field: SourceField,
  text: string,
  maxBytes: number,
): Rejection | undefined {
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return undefined;
  return reject(
    line,
    raw,
    'field_too_long',
    field,
    `${field} is ${bytes} bytes, over its bound of ${maxBytes}`,
  );
}

/** A `field_too_long` rejection when a numeric or date field's text is over SOURCE_VALUE_MAX_CHARS. */
function overLength(line: number, raw: string, field: SourceField, text: string): Rejection | undefined {
  if (text.length <= SOURCE_VALUE_MAX_CHARS) return undefined;
  return reject(
    line,
    raw,
    'field_too_long',
    field,
    `${field} is ${text.length} characters, over its bound of ${SOURCE_VALUE_MAX_CHARS}`,
  );
}

function missing(line: number, raw: string, field: SourceField): Rejection {
  return reject(line, raw, 'missing_field', field, `${field} is empty`);
}

const INTEGER = /^[+-]?\d+(?:\.0*)?$/;

/** An int32, allowing a zero fraction (`6.0`, as spreadsheet exports write integers). */
export function parseInteger(text: string): number | null {
  // Fast path: up to 9 plain digits cannot overflow int32.
  if (text.length < 10) {
    let value = 0;
    let i = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      value = value * 10 + c;
    }
    if (i === text.length && i > 0) return value;
  }
  if (!INTEGER.test(text)) return null;
  const value = Number.parseInt(text, 10);
  if (value > INT32_MAX || value < -INT32_MAX - 1) return null;
  return value === 0 ? 0 : value; // no -0
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * A decimal as an integer count of thousandths, exactly: `2.55` is 2550, `-11062.06` is -11062060.
 * More than three places are accepted only when the extra digits are zeros.
 */
export function parseMilli(text: string): number | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const whole = m[2]!;
  const fraction = m[3] ?? '';
  if (whole === '' && fraction === '') return null;
  if (fraction.length > 3 && !/^0*$/.test(fraction.slice(3))) return null;
  const value = Number((whole || '0') + (fraction + '000').slice(0, 3));
  if (!Number.isSafeInteger(value) || value > 1e15) return null;
  if (value === 0) return 0;
  return m[1] === '-' ? -value : value;
}

const ISO_DATE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/**
 * An invoice timestamp as ISO 8601 UTC (`2010-12-01T08:26:00Z`). A time without a zone is the source's
 * local time and is kept as UTC; an explicit offset is converted.
 */
export function parseInvoiceDate(text: string): string | null {
  // An invoice's lines share one timestamp, so the last answer is usually the next one.
  if (text === lastDate.text) return lastDate.iso;
  const iso = parseInvoiceDateUncached(text);
  lastDate.text = text;
  lastDate.iso = iso;
  return iso;
}

const lastDate: { text: string; iso: string | null } = { text: '', iso: null };

function parseInvoiceDateUncached(text: string): string | null {
  // Fast path for the real data's own form, `2010-12-01 08:26:00`.
  if (text.length === 19 && text.charCodeAt(10) === 32 && isCanonical(text)) {
    return `${text.slice(0, 10)}T${text.slice(11)}Z`;
  }
  let m = ISO_DATE.exec(text);
  if (m) {
    return isoFromParts(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
      m[7] ? Number((m[7] + '00').slice(0, 3)) : 0,
      m[8],
    );
  }
  m = US_DATE.exec(text);
  if (m) {
    return isoFromParts(
      Number(m[3]),
      Number(m[1]),
      Number(m[2]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
      0,
    );
  }
  return null;
}

/** `YYYY-MM-DD HH:MM:SS` with digits where digits belong and values in range. */
function isCanonical(t: string): boolean {
  if (
    t.charCodeAt(4) !== 45 ||
    t.charCodeAt(7) !== 45 ||
    t.charCodeAt(13) !== 58 ||
    t.charCodeAt(16) !== 58
  ) {
    return false;
  }
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  const month = Number(t.slice(5, 7));
  const day = Number(t.slice(8, 10));
  return (
    inYears(Number(t.slice(0, 4))) &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(Number(t.slice(0, 4)), month) &&
    Number(t.slice(11, 13)) < 24 &&
    Number(t.slice(14, 16)) < 60 &&
    Number(t.slice(17, 19)) < 60
  );
}

function inYears(year: number): boolean {
  return year >= INVOICE_YEARS.first && year <= INVOICE_YEARS.last;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1]!;
}

function isoFromParts(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  zone?: string,
): string | null {
  if (!inYears(year) || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let epoch = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0);
    if (offsetMinutes > 18 * 60) return null;
    epoch -= sign * offsetMinutes * 60_000;
  }
  const date = new Date(epoch);
  // An offset can move the instant across a year's edge, out of the range.
  if (!inYears(date.getUTCFullYear())) return null;
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}
