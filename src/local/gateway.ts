import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  type AccessTokenClaims,
  AUTH_ERRORS,
  authorize,
  bearerToken,
  type TokenCheck,
} from '../api/authorize.js';
import { isPrivate, matchTemplate, ROUTES } from '../api/routes.js';
import { needsApiKey } from '../api/scopes.js';
import { AUTH_MODES, type AuthMode } from '../config/auth.js';
import { LOCAL_ACCOUNT_ID } from '../config/aws.js';
import { DASHBOARD_AUTH_SCRIPT } from '../dashboard/assets.js';
import { lambdaContext } from './lambda-context.js';
import { localAuthScript } from './tokens.js';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface GatewayOptions {
  handler: ApiHandler;
  apiKey: string;
  stage?: string;
  /** API Gateway's own payload limit (10 MB); the handler applies the API's 5 MB limit itself. */
  maxPayloadBytes?: number;
  /** Requests to private routes in flight at once, by kind; more get 429 (GATEWAY_LIMITS.inFlight). */
  inFlightLimits?: InFlightLimits;
  /** Bearer tokens, as API Gateway's Cognito authorizer checks them; without it, the API key alone. */
  auth?: GatewayAuth;
  /**
   * The dashboard's `auth.js` (src/local/tokens.ts, localAuthScript: a fresh analyst token and the key),
   * asked for on each request; without it the page's requests carry the API key alone.
   */
  dashboardAuthScript?: () => Promise<string>;
}

/**
 * How the local gateway checks `Authorization: Bearer <JWT>` (src/local/tokens.ts holds the key). In
 * `cognito` mode every private route needs a valid token with its scope, as the deployed API's authorizer
 * does; in `apiKey` mode (the local default, so that replay, load and the tests that send only the key keep
 * working) a token is checked only when a request sends one.
 */
export interface GatewayAuth {
  mode: AuthMode;
  /** The issuer the tokens must carry. */
  issuer: string;
  /** Checks a token's signature and returns its claims. */
  verify: (token: string | undefined) => Promise<TokenCheck>;
  /** Now, in seconds since the epoch (tests pin it). */
  nowSeconds?: () => number;
}

/** Requests in flight at once: those that carry a body (POST, PUT), and the rest (look-ups, DELETE). */
export interface InFlightLimits {
  withBody: number;
  withoutBody: number;
  /**
   * The bytes the bodies in flight may add up to, by their Content-Length (the payload limit when a body
   * has none). A request that would pass it waits its turn with 429, unless no other body is in flight.
   */
  bodyBytes: number;
}

/**
 * The gateway's own bounds. On AWS the usage plan throttles per key (apiThrottleRateLimit, burst) and
 * answers 429; locally one process serves everything, so what is bounded is the requests in flight. A
 * request with a body may hold 10 MB and its parse, and 48 of them at once took the process to 5 GB: 8 at
 * once, and 20 MB of bodies at once (four bodies of the API's 5 MB limit; eight 5 MB bodies at once still
 * held the thread, and /health, for 2 to 3 s in collections of their copies). A look-up holds a few
 * kilobytes, and 50 clients reading at once is ordinary use of a dashboard or a shop's back office: 256 at
 * once, which still bounds the process. `/health` is not counted, so it answers however busy the API is.
 */
export const GATEWAY_LIMITS = {
  maxPayloadBytes: 10 * 1024 * 1024,
  inFlight: { withBody: 8, withoutBody: 256, bodyBytes: 20 * 1024 * 1024 } satisfies InFlightLimits,
} as const;

/** The methods whose requests carry a body, and so count against InFlightLimits.withBody. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT']);

/**
 * API Gateway's own answers, before any integration runs, in its words: the status, the body's message and
 * the `x-amzn-ErrorType` header. API Gateway (REST) answers a method or resource the API does not define
 * with 403 Missing Authentication Token, whatever the key, not with 404 or 405.
 */
export const GATEWAY_ERRORS = {
  missingAuthenticationToken: {
    status: 403,
    type: 'MissingAuthenticationTokenException',
    responseType: 'MISSING_AUTHENTICATION_TOKEN',
    message: 'Missing Authentication Token',
  },
  forbidden: {
    status: 403,
    type: 'ForbiddenException',
    responseType: 'INVALID_API_KEY',
    message: 'Forbidden',
  },
  /** No token, or one that is expired, wrongly signed or from another pool (the Cognito authorizer). */
  unauthorized: AUTH_ERRORS.unauthorized,
  /** A valid token without the route's scope. */
  accessDenied: AUTH_ERRORS.accessDenied,
  throttled: {
    status: 429,
    type: 'TooManyRequestsException',
    responseType: 'THROTTLED',
    message: 'Too Many Requests',
  },
} as const;
type GatewayError = (typeof GATEWAY_ERRORS)[keyof typeof GATEWAY_ERRORS];

/**
 * Whether the `x-api-key` a request sent is the API key, compared in constant time: both sides are hashed
 * first, so the comparison takes as long whatever the key's length and however much of it is right.
 */
export function apiKeyMatches(sent: string | undefined, apiKey: string): boolean {
  if (sent === undefined) return false;
  const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();
  return timingSafeEqual(digest(sent), digest(apiKey));
}

/**
 * A local API Gateway (REST, Lambda proxy integration) in front of the same `api` handler: it matches the
 * request to a declared method and resource of ROUTES (anything else gets API Gateway's 403 Missing
 * Authentication Token), checks a bearer token as the Cognito authorizer does when `auth` is given (401,
 * or 403 without the route's scope: src/api/authorize.ts), then `x-api-key` as a usage plan does (403
 * without a valid key), and builds the proxy event, with the token's claims under
 * `requestContext.authorizer.claims`. Bodies are passed base64-encoded, as with binaryMediaTypes `*\/*`, so a CSV in Windows-1252
 * reaches the handler byte for byte.
 *
 * HEAD is a method of its own to API Gateway: it is not routed to a GET method, so `HEAD /health` gets the
 * 403 of an undefined method (headers only), as on AWS.
 *
 * A body is passed on as sent, whatever its Content-Encoding, as API Gateway does when content encoding
 * (minimumCompressionSize) is not enabled on the API: decoding it is the function's job.
 */
export function createGateway(options: GatewayOptions): Server {
  const stage = options.stage ?? 'local';
  const maxPayload = options.maxPayloadBytes ?? GATEWAY_LIMITS.maxPayloadBytes;
  const limits = options.inFlightLimits ?? GATEWAY_LIMITS.inFlight;
  const inFlight = { withBody: 0, withoutBody: 0, bodyBytes: 0 };
  return createServer((req, res) => {
    handle(req, res).catch((err: Error) =>
      send(res, 502, { message: `Internal server error: ${err.message}` }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === DASHBOARD_AUTH_SCRIPT) {
      // The dashboard's request headers, answered by the local gateway itself: it binds 127.0.0.1, so
      // the page works with no sign-in (on AWS this script is the sign-in's).
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(
        options.dashboardAuthScript
          ? await options.dashboardAuthScript()
          : localAuthScript({ token: null, apiKey: options.apiKey }),
      );
      req.resume();
      return;
    }
    const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);
    const route = ROUTES.filter((r) => r.method === req.method)
      .map((r) => ({
        resource: r.resource,
        scope: r.scope,
        private: isPrivate(r),
        params: matchTemplate(r.resource, segments),
      }))
      .find((r) => r.params !== null);
    if (!route) {
      // No method of that name on a resource of that path: checked before the key, as API Gateway does.
      refuse(res, GATEWAY_ERRORS.missingAuthenticationToken);
      req.resume();
      return;
    }
    // API Gateway runs the authorizer before it checks the usage plan's key.
    let claims: AccessTokenClaims | null = null;
    const auth = options.auth;
    const token = bearerToken(req.headers.authorization);
    // In apiKey mode only a bearer token counts as sent: another scheme (Basic) is not ours to judge.
    const sentBearer = /^Bearer\s/i.test(req.headers.authorization ?? '');
    if (route.private && auth && (auth.mode === AUTH_MODES.cognito || sentBearer)) {
      const nowSeconds = auth.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
      const decision = authorize(route.scope, await auth.verify(token), { issuer: auth.issuer, nowSeconds });
      if (!decision.allow) {
        refuse(res, decision.error);
        req.resume();
        return;
      }
      claims = decision.claims;
    }
    const sent = req.headers['x-api-key'];
    const keyed = needsApiKey(route.scope, auth?.mode ?? AUTH_MODES.apiKey);
    if (keyed && !apiKeyMatches(typeof sent === 'string' ? sent : undefined, options.apiKey)) {
      refuse(res, GATEWAY_ERRORS.forbidden);
      req.resume();
      return;
    }
    const kind = BODY_METHODS.has(req.method ?? '') ? 'withBody' : 'withoutBody';
    const declared = Number(req.headers['content-length']);
    const bodyBytes = kind === 'withBody' ? (Number.isFinite(declared) ? declared : maxPayload) : 0;
    const overBytes = inFlight.withBody > 0 && inFlight.bodyBytes + bodyBytes > limits.bodyBytes;
    if (route.private && (inFlight[kind] >= limits[kind] || overBytes)) {
      refuse(res, GATEWAY_ERRORS.throttled, { 'Retry-After': '1' });
      req.resume();
      return;
    }
    if (route.private) {
      inFlight[kind]++;
      inFlight.bodyBytes += bodyBytes;
    }
    let result: APIGatewayProxyResult;
    try {
      const body = await readBody(req, maxPayload);
      if (body === null) {
        send(res, 413, { message: `Request payload exceeds API Gateway's ${maxPayload} byte limit` });
        return;
      }
      const requestId = randomUUID();
      const event = proxyEvent(req, url, route.resource, route.params ?? {}, body, stage, requestId, claims);
      result = await options.handler(event, lambdaContext('ecomflow-local-api', requestId));
    } finally {
      if (route.private) {
        inFlight[kind]--;
        inFlight.bodyBytes -= bodyBytes;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
    res.writeHead(result.statusCode, headers);
    res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  }
}

function proxyEvent(
  req: IncomingMessage,
  url: URL,
  resource: string,
  pathParameters: Record<string, string>,
  body: Buffer,
  stage: string,
  requestId: string,
  claims: AccessTokenClaims | null,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    multiQuery[k] = [...(multiQuery[k] ?? []), v];
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    resource,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      // As the Cognito authorizer passes them: every claim as a string.
      authorizer: claims ? { claims: stringClaims(claims) } : null,
      httpMethod: req.method ?? 'GET',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      stage,
    },
  };
}

function stringClaims(claims: AccessTokenClaims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(claims)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** The request body, or null when it exceeds `limit` (the rest is drained, not buffered). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
  }
  return tooLarge ? null : Buffer.concat(chunks);
}

function refuse(res: ServerResponse, error: GatewayError, extraHeaders: Record<string, string> = {}): void {
  // A HEAD request gets the same status and headers; node sends no body in answer to HEAD. The body is the
  // deployed API's DEFAULT_4XX gateway response (resources/api.yml): the response type and the message.
  send(
    res,
    error.status,
    { error: error.responseType, message: error.message },
    {
      'x-amzn-ErrorType': error.type,
      'x-amzn-RequestId': randomUUID(),
      ...extraHeaders,
    },
  );
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
