/**
 * The API's route manifest: method, resource, the scope a caller needs, and the handler. The API
 * function's http events in resources/functions/api.yml declare the same routes, each with the Cognito
 * authorizer of its scope; the template test holds them equal.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DASHBOARD_PAGE, SIGN_IN_CONFIG_FILE } from '../dashboard/assets.js';
import type { ApiDeps } from './deps.js';
import { type HttpResponse, header, pageLimit, requestBody } from './http.js';
import { deleteInvoice, replaceInvoice } from './ingest/changes.js';
import { ingest } from './ingest/ingest.js';
import { getCustomer, getCustomerInvoices } from './routes/customers.js';
import { getDashboardData, getDashboardFile, getSignInConfig } from './routes/dashboard.js';
import { deleteCustomer } from './routes/erasure.js';
import { getHealth } from './routes/health.js';
import { getInvoice, getInvoiceItems } from './routes/invoices.js';
import { getStatus } from './routes/status.js';
import { getStockInvoices } from './routes/stock.js';
import { PUBLIC, type RouteScope, SCOPES } from './scopes.js';

/** What a route sees: path parameters (decoded), the event, and a request id. */
export interface RouteRequest {
  params: Readonly<Record<string, string>>;
  event: APIGatewayProxyEvent;
  requestId: string;
  /** The host's own detail for GET /health (HealthDetail), when it has one. */
  health?: HealthDetail;
}

/** What a host adds to GET /health: the local stack reports its deliveries; a Lambda has nothing to add. */
export type HealthDetail = () => Record<string, unknown>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The API Gateway resource path, as resources/functions/api.yml declares it (with a leading slash). */
  resource: string;
  /**
   * The OAuth scope a caller's access token must carry (src/api/scopes.ts), or PUBLIC. Every route that is
   * not PUBLIC also needs the API key (`private: true`: the usage plan's per-client throttle).
   */
  scope: RouteScope;
  handle: (request: RouteRequest, deps: () => ApiDeps) => Promise<HttpResponse> | HttpResponse;
}

const next = (e: APIGatewayProxyEvent) => e.queryStringParameters?.['next'] ?? undefined;

/** Every route of the API, once: the router, the local gateway and the template test read this list. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', resource: '/health', scope: PUBLIC, handle: ({ health }) => getHealth(health?.()) },
  { method: 'GET', resource: '/status', scope: SCOPES.read, handle: (_request, deps) => getStatus(deps()) },
  {
    method: 'POST',
    resource: '/ingest',
    scope: SCOPES.ingest,
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
    scope: SCOPES.read,
    handle: ({ params }, deps) => getInvoice(params['invoiceNo']!, deps()),
  },
  {
    method: 'PUT',
    resource: '/invoices/{invoiceNo}',
    scope: SCOPES.ingest,
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
    scope: SCOPES.ingest,
    handle: ({ params, requestId }, deps) => deleteInvoice(params['invoiceNo']!, requestId, deps()),
  },
  {
    method: 'GET',
    resource: '/invoices/{invoiceNo}/items/{stockCode}',
    scope: SCOPES.read,
    handle: ({ params }, deps) => getInvoiceItems(params['invoiceNo']!, params['stockCode']!, deps()),
  },
  {
    method: 'GET',
    resource: '/customers/{customerId}',
    scope: SCOPES.read,
    handle: ({ params }, deps) => getCustomer(params['customerId']!, deps()),
  },
  {
    method: 'GET',
    resource: '/customers/{customerId}/invoices',
    scope: SCOPES.read,
    handle: ({ params, event }, deps) =>
      getCustomerInvoices(params['customerId']!, pageLimit(event), next(event), deps()),
  },
  // Erasure is an admin's act: only the admin role carries the admin scope.
  {
    method: 'DELETE',
    resource: '/customers/{customerId}',
    scope: SCOPES.admin,
    handle: ({ params }, deps) => deleteCustomer(params['customerId']!, deps()),
  },
  {
    method: 'GET',
    resource: '/stock/{stockCode}/invoices',
    scope: SCOPES.read,
    handle: ({ params, event }, deps) =>
      getStockInvoices(params['stockCode']!, pageLimit(event), next(event), deps()),
  },
  // The dashboard (src/dashboard/): its page and files are public (they hold no data; on AWS the page
  // signs in), its data takes the key as the look-ups do. /dashboard/data comes before /dashboard/{file}:
  // the local gateway takes the first match, as API Gateway prefers a literal segment to a parameter.
  { method: 'GET', resource: '/', scope: PUBLIC, handle: () => getDashboardFile(DASHBOARD_PAGE) },
  {
    method: 'GET',
    resource: '/dashboard/data',
    scope: SCOPES.read,
    handle: ({ event }, deps) => getDashboardData(event.queryStringParameters, deps()),
  },
  {
    method: 'GET',
    resource: '/dashboard/{file}',
    scope: PUBLIC,
    handle: ({ params }, deps) =>
      params['file'] === SIGN_IN_CONFIG_FILE
        ? getSignInConfig(deps().config.signIn)
        : getDashboardFile(params['file']!),
  },
];

/**
 * Whether a route needs a credential at all: every route but the PUBLIC ones. Which credential, the API
 * key, a token or both, depends on the auth mode (src/api/scopes.ts, needsApiKey).
 */
export function isPrivate(route: Pick<Route, 'scope'>): boolean {
  return route.scope !== PUBLIC;
}

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
