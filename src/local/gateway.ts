import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { matchTemplate, ROUTES } from '../api/routes.js';
import { lambdaContext } from './lambda-context.js';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface GatewayOptions {
  handler: ApiHandler;
  apiKey: string;
  stage?: string;
  /** API Gateway's own payload limit (10 MB); the handler applies the API's 5 MB limit itself. */
  maxPayloadBytes?: number;
}

/**
 * A local API Gateway (REST, Lambda proxy integration) in front of the same `api` handler: it matches the
 * request to a declared resource, checks `x-api-key` as a usage plan does (403 without a valid key), and
 * builds the proxy event. Bodies are passed base64-encoded, as with binaryMediaTypes `*\/*`, so a CSV in
 * Windows-1252 reaches the handler byte for byte.
 */
export function createGateway(options: GatewayOptions): Server {
  const stage = options.stage ?? 'local';
  const maxPayload = options.maxPayloadBytes ?? 10 * 1024 * 1024;
  return createServer((req, res) => {
    handle(req, res).catch((err: Error) =>
      send(res, 502, { message: `Internal server error: ${err.message}` }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);
    const route = ROUTES.map((r) => ({
      resource: r.resource,
      private: r.private,
      params: matchTemplate(r.resource, segments),
    })).find((r) => r.params !== null);
    if (!route) {
      // What API Gateway answers for a path no resource matches.
      send(res, 403, { message: 'Missing Authentication Token' });
      req.resume();
      return;
    }
    if (route.private && req.headers['x-api-key'] !== options.apiKey) {
      send(res, 403, { message: 'Forbidden' });
      req.resume();
      return;
    }
    const body = await readBody(req, maxPayload);
    if (body === null) {
      send(res, 413, { message: `Request payload exceeds API Gateway's ${maxPayload} byte limit` });
      return;
    }
    const requestId = randomUUID();
    const event = proxyEvent(req, url, route.resource, route.params ?? {}, body, stage, requestId);
    const result = await options.handler(event, lambdaContext('ecomflow-local-api', requestId));
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
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
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

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
