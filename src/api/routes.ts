/**
 * The API's route manifest: method, resource, whether the API key is required, and the handler. The API
 * function's http events in resources/functions/api.yml declare the same routes; the template test holds
 * them equal.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DASHBOARD_PAGE } from '../dashboard/assets.js';
import type { ApiDeps } from './deps.js';
import { type HttpResponse, header, pageLimit, requestBody } from './http.js';
import { deleteInvoice, replaceInvoice } from './ingest/changes.js';
import { ingest } from './ingest/ingest.js';
import { getCustomer, getCustomerInvoices } from './routes/customers.js';
import { getDashboardData, getDashboardFile } from './routes/dashboard.js';
import { deleteCustomer } from './routes/erasure.js';
import { getHealth } from './routes/health.js';
import { getInvoice, getInvoiceItems } from './routes/invoices.js';
import { getStatus } from './routes/status.js';
import { getStockInvoices } from './routes/stock.js';

/** What a route sees: path parameters (decoded), the event, and a request id. */
export interface RouteRequest {
  params: Readonly<Record<string, string>>;
  event: APIGatewayProxyEvent;
  requestId: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The API Gateway resource path, as resources/functions/api.yml declares it (with a leading slash). */
  resource: string;
  /** Whether API Gateway requires the API key (`private: true`); the local gateway checks it the same way. */
  private: boolean;
  handle: (request: RouteRequest, deps: () => ApiDeps) => Promise<HttpResponse> | HttpResponse;
}

const next = (e: APIGatewayProxyEvent) => e.queryStringParameters?.['next'] ?? undefined;

/** Every route of the API, once: the router, the local gateway and the template test read this list. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', resource: '/health', private: false, handle: () => getHealth() },
  { method: 'GET', resource: '/status', private: true, handle: (_request, deps) => getStatus(deps()) },
  {
    method: 'POST',
    resource: '/ingest',
    private: true,
    handle: ({ event, requestId }, deps) =>
      ingest(
        {
          contentType: header(event, 'content-type'),
          contentEncoding: header(event, 'content-encoding'),
          body: requestBody(event),
          requestId,
        },
        deps(),
      ),
  },
  {
    method: 'GET',
    resource: '/invoices/{invoiceNo}',
    private: true,
    handle: ({ params }, deps) => getInvoice(params['invoiceNo']!, deps()),
  },
  {
    method: 'PUT',
    resource: '/invoices/{invoiceNo}',
    private: true,
    handle: ({ params, event, requestId }, deps) =>
      replaceInvoice(
        params['invoiceNo']!,
        {
          contentType: header(event, 'content-type'),
          contentEncoding: header(event, 'content-encoding'),
          body: requestBody(event),
          requestId,
        },
        deps(),
      ),
  },
  {
    method: 'DELETE',
    resource: '/invoices/{invoiceNo}',
    private: true,
    handle: ({ params, requestId }, deps) => deleteInvoice(params['invoiceNo']!, requestId, deps()),
  },
  {
    method: 'GET',
    resource: '/invoices/{invoiceNo}/items/{stockCode}',
    private: true,
    handle: ({ params }, deps) => getInvoiceItems(params['invoiceNo']!, params['stockCode']!, deps()),
  },
  {
    method: 'GET',
    resource: '/customers/{customerId}',
    private: true,
    handle: ({ params }, deps) => getCustomer(params['customerId']!, deps()),
  },
  {
    method: 'GET',
    resource: '/customers/{customerId}/invoices',
    private: true,
    handle: ({ params, event }, deps) =>
      getCustomerInvoices(params['customerId']!, pageLimit(event), next(event), deps()),
  },
  // Erasure is an admin's act; it takes the API key until the API has an admin scope of its own.
  {
    method: 'DELETE',
    resource: '/customers/{customerId}',
    private: true,
    handle: ({ params }, deps) => deleteCustomer(params['customerId']!, deps()),
  },
  {
    method: 'GET',
    resource: '/stock/{stockCode}/invoices',
    private: true,
    handle: ({ params, event }, deps) =>
      getStockInvoices(params['stockCode']!, pageLimit(event), next(event), deps()),
  },
  // The dashboard (src/dashboard/): its page and files are public (they hold no data; on AWS the page
  // signs in), its data takes the key as the look-ups do. /dashboard/data comes before /dashboard/{file}:
  // the local gateway takes the first match, as API Gateway prefers a literal segment to a parameter.
  { method: 'GET', resource: '/', private: false, handle: () => getDashboardFile(DASHBOARD_PAGE) },
  {
    method: 'GET',
    resource: '/dashboard/data',
    private: true,
    handle: ({ event }, deps) => getDashboardData(event.queryStringParameters, deps()),
  },
  {
    method: 'GET',
    resource: '/dashboard/{file}',
    private: false,
    handle: ({ params }) => getDashboardFile(params['file']!),
  },
];

/**
 * The path parameters of `segments` (decoded path segments) under a resource template, or null when the
 * path is not that resource's. API Gateway does this matching; the local gateway needs it too.
 * @example matchTemplate('/invoices/{invoiceNo}', ['invoices', '536365']) // { invoiceNo: '536365' }
 */
export function matchTemplate(template: string, segments: readonly string[]): Record<string, string> | null {
  const parts = template.split('/').filter(Boolean);
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const segment = segments[i]!;
    if (part.startsWith('{') && part.endsWith('}')) params[part.slice(1, -1)] = segment;
    else if (part !== segment) return null;
  }
  return params;
}
