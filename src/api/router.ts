import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoReadError } from '../adapters/errors.js';
import type { ApiDeps } from './deps.js';
import { MethodNotAllowedError, NotFoundError, ServiceUnavailableError } from './errors.js';
import { type HttpResponse, header, pageLimit, requestBody } from './http.js';
import { ingest } from './ingest/ingest.js';
import { getCustomer, getCustomerInvoices } from './routes/customers.js';
import { getHealth } from './routes/health.js';
import { getInvoice, getInvoiceItems } from './routes/invoices.js';
import { getStockInvoices } from './routes/stock.js';

/** What a route sees: path parameters (decoded), the event, and a request id. */
export interface RouteRequest {
  params: Readonly<Record<string, string>>;
  event: APIGatewayProxyEvent;
  requestId: string;
}

interface Route {
  method: 'GET' | 'POST';
  /** The API Gateway resource path, exactly as `serverless.yml` declares it. */
  resource: string;
  handle: (request: RouteRequest, deps: () => ApiDeps) => Promise<HttpResponse> | HttpResponse;
}

const next = (e: APIGatewayProxyEvent) => e.queryStringParameters?.['next'] ?? undefined;

/** Every route of the API. API Gateway enforces the API key on all but /health. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', resource: '/health', handle: () => getHealth() },
  {
    method: 'POST',
    resource: '/ingest',
    handle: ({ event, requestId }, deps) =>
      ingest({ contentType: header(event, 'content-type'), body: requestBody(event), requestId }, deps()),
  },
  {
    method: 'GET',
    resource: '/invoices/{invoiceNo}',
    handle: ({ params }, deps) => getInvoice(params['invoiceNo']!, deps()),
  },
  {
    method: 'GET',
    resource: '/invoices/{invoiceNo}/items/{stockCode}',
    handle: ({ params }, deps) => getInvoiceItems(params['invoiceNo']!, params['stockCode']!, deps()),
  },
  {
    method: 'GET',
    resource: '/customers/{customerId}',
    handle: ({ params }, deps) => getCustomer(params['customerId']!, deps()),
  },
  {
    method: 'GET',
    resource: '/customers/{customerId}/invoices',
    handle: ({ params, event }, deps) =>
      getCustomerInvoices(params['customerId']!, pageLimit(event), next(event), deps()),
  },
  {
    method: 'GET',
    resource: '/stock/{stockCode}/invoices',
    handle: ({ params, event }, deps) =>
      getStockInvoices(params['stockCode']!, pageLimit(event), next(event), deps()),
  },
];

/**
 * Dispatches an API Gateway (REST, proxy integration) event to its route. `deps` is called only by routes
 * that use a service, so GET /health answers even before configuration and clients exist.
 *
 * With one resource per route, API Gateway names the matched `resource` and gives decoded
 * `pathParameters`; behind a `{proxy+}` resource, the path is matched against the templates here.
 */
export async function dispatch(
  event: APIGatewayProxyEvent,
  deps: () => ApiDeps,
  requestId: string,
): Promise<HttpResponse> {
  const method = event.httpMethod.toUpperCase();
  const match = matchRoute(event);
  if (!match) throw new NotFoundError(`no route for ${method} ${event.path}`);
  const route = match.routes.find((r) => r.method === method);
  if (!route) {
    throw new MethodNotAllowedError(
      method,
      event.path,
      match.routes.map((r) => r.method),
    );
  }
  try {
    return await route.handle({ params: match.params, event, requestId }, deps);
  } catch (error) {
    if (error instanceof DynamoReadError) {
      throw new ServiceUnavailableError(
        'table_unavailable',
        'the tables cannot be read right now; try again',
        {},
        { cause: error },
      );
    }
    throw error;
  }
}

function matchRoute(event: APIGatewayProxyEvent): { routes: Route[]; params: Record<string, string> } | null {
  const byResource = ROUTES.filter((r) => r.resource === event.resource);
  if (byResource.length > 0) {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (v !== undefined) params[k] = v;
    return { routes: byResource, params };
  }
  const proxy = event.pathParameters?.['proxy'];
  const segments =
    proxy !== undefined
      ? proxy.split('/').filter(Boolean)
      : event.path.split('/').filter(Boolean).map(decodeSegment);
  for (const route of ROUTES) {
    const params = matchTemplate(route.resource, segments);
    if (params) return { routes: ROUTES.filter((r) => r.resource === route.resource), params };
  }
  return null;
}

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

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
