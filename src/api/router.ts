import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AdapterError } from '../adapters/errors.js';
import type { ApiDeps } from './deps.js';
import { MethodNotAllowedError, NotFoundError, serviceUnavailable } from './errors.js';
import type { HttpResponse } from './http.js';
import { type HealthDetail, ROUTES, type Route } from './routes.js';

/**
 * Dispatches an API Gateway (REST, proxy integration) event to its route. `deps` is called only by routes
 * that use a service, so GET /health answers even before configuration and clients exist.
 *
 * Each route is its own API Gateway resource, so the event names the matched `resource` and gives decoded
 * `pathParameters`; nothing is matched against paths here.
 */
export async function dispatch(
  event: APIGatewayProxyEvent,
  deps: () => ApiDeps,
  requestId: string,
  health?: HealthDetail,
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
    return await route.handle({ params: match.params, event, requestId, health }, deps);
  } catch (error) {
    // A service that failed under the route is a 503, whichever route and service (ADAPTER_FAILURE_ANSWERS).
    if (error instanceof AdapterError) throw serviceUnavailable(error);
    throw error;
  }
}

function matchRoute(event: APIGatewayProxyEvent): { routes: Route[]; params: Record<string, string> } | null {
  const routes = ROUTES.filter((r) => r.resource === event.resource);
  if (routes.length === 0) return null;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (v !== undefined) params[k] = v;
  return { routes, params };
}
