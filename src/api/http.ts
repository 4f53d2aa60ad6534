import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { controlCharacterAt } from '../core/clean.js';
import { FIELD_MAX_BYTES } from '../core/schema.js';
import { BadRequestError } from './errors.js';

export type HttpResponse = APIGatewayProxyResult;

/** A JSON response. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** A header's value, whatever its case (API Gateway keeps the client's; the normaliser lowercases). */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name] ?? headers[name.toLowerCase()];
  if (direct !== undefined) return direct;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** A media type and its parameters, lowercased: `text/csv; charset=UTF-8` gives `text/csv`, `{charset: 'utf-8'}`. */
export function parseMediaType(value: string): { type: string; params: Record<string, string> } {
  const [type = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const raw = part.slice(eq + 1).trim();
    params[key] = raw.replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return { type: type.trim().toLowerCase(), params };
}

/**
 * The request body as bytes when API Gateway base64-encoded it (binary media types), or as the text it
 * already decoded otherwise.
 */
export function requestBody(event: APIGatewayProxyEvent): Buffer | string {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : body;
}

/** Size of a body in bytes, as sent. */
export function bodySize(body: Buffer | string): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}

export const PAGE_LIMITS = { default: 50, max: 500 } as const;

/**
 * The `limit` query parameter: an integer from 1 to 500, 50 when absent.
 * @throws BadRequestError naming the value
 */
export function pageLimit(event: APIGatewayProxyEvent): number {
  const raw = event.queryStringParameters?.['limit'];
  if (raw === undefined || raw === null || raw === '') return PAGE_LIMITS.default;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > PAGE_LIMITS.max) {
    throw new BadRequestError(
      'invalid_parameter',
      `limit ${JSON.stringify(raw)} must be an integer from 1 to ${PAGE_LIMITS.max}`,
    );
  }
  return Number(raw);
}

/** The keys a path can carry, with the record contract's bound for their field. */
const PATH_KEYS = {
  invoiceNo: { maxBytes: FIELD_MAX_BYTES.invoice_no, noun: 'an invoice number' },
  stockCode: { maxBytes: FIELD_MAX_BYTES.stock_code, noun: 'a stock code' },
} as const;

/**
 * A key of the path (an invoice number, a stock code) as the stores can hold it: not blank, within the
 * record contract's bound for its field (FIELD_MAX_BYTES), and free of the control characters the core
 * quarantines, since no stored line can have such a key. A change (PUT, DELETE) keyed by one would
 * otherwise travel to the warehouse, which refuses a NUL byte.
 * @throws BadRequestError naming the parameter and the bound
 * @example keyParameter('invoiceNo', '536365') === '536365'
 */
export function keyParameter(name: keyof typeof PATH_KEYS, raw: string): string {
  const { maxBytes, noun } = PATH_KEYS[name];
  if (raw.trim() === '' || Buffer.byteLength(raw) > maxBytes || controlCharacterAt(raw) !== -1) {
    const shown = raw.length > 64 ? `${raw.slice(0, 64)}...` : raw;
    throw new BadRequestError(
      'invalid_parameter',
      `${name} ${JSON.stringify(shown)} is not ${noun} (1 to ${maxBytes} bytes, no control characters)`,
    );
  }
  return raw;
}
