/**
 * The local API gateway: the proxy events it builds, the x-api-key check of the usage plan, and the payload
 * cap. A recording handler stands in for the `api` function, so the events themselves can be inspected.
 */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ROUTES } from '../../src/api/routes.js';
import { DASHBOARD_AUTH_SCRIPT } from '../../src/dashboard/assets.js';
import { close } from '../../src/local/emulators.js';
import {
  apiKeyMatches,
  createGateway,
  GATEWAY_ERRORS,
  type InFlightLimits,
} from '../../src/local/gateway.js';
import { localAuthScript } from '../../src/local/tokens.js';

/** A path of `resource` with a value in each parameter. */
const pathOf = (resource: string) => resource.replace(/\{\w+\}/g, '1');

/** Every method and resource ROUTES does not define, as a method paired with the path of a resource. */
const UNDEFINED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].flatMap((method) =>
  [...new Set(ROUTES.map((r) => r.resource))]
    .filter((resource) => !ROUTES.some((r) => r.method === method && r.resource === resource))
    .map((resource) => ({ method, path: pathOf(resource) })),
);

/** A raw request (fetch cannot send HEAD with a look at the bytes that came back). */
function raw(
  url: string,
  method: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const KEY = 'test-key';
let server: Server;
let url: string;
let events: APIGatewayProxyEvent[];
let reply: APIGatewayProxyResult;

beforeEach(async () => {
  events = [];
  reply = { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}' };
  server = createGateway({
    handler: async (event) => {
      events.push(event);
      return reply;
    },
    apiKey: KEY,
    stage: 'local',
    maxPayloadBytes: 1024,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await close(server);
});

describe('the local API gateway', () => {
  it('builds a REST proxy event with the resource, decoded path parameters and the query', async () => {
    // Act
    const response = await fetch(`${url}/customers/17850/invoices?limit=5&next=abc`, {
      headers: { 'x-api-key': KEY, 'X-Custom': 'yes' },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      resource: '/customers/{customerId}/invoices',
      path: '/customers/17850/invoices',
      httpMethod: 'GET',
      pathParameters: { customerId: '17850' },
      queryStringParameters: { limit: '5', next: 'abc' },
      multiValueQueryStringParameters: { limit: ['5'], next: ['abc'] },
      body: null,
      isBase64Encoded: false,
      stageVariables: null,
      requestContext: {
        stage: 'local',
        resourcePath: '/customers/{customerId}/invoices',
        path: '/local/customers/17850/invoices',
        httpMethod: 'GET',
        identity: { apiKey: KEY },
      },
    });
    expect(event.headers['X-Custom']).toBe('yes');
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes a percent-encoded path parameter decoded, as API Gateway does', async () => {
    // Act
    await fetch(`${url}/invoices/536365/items/${encodeURIComponent('85123A/B')}`, {
      headers: { 'x-api-key': KEY },
    });

    // Assess
    expect(events[0]?.pathParameters).toEqual({ invoiceNo: '536365', stockCode: '85123A/B' });
  });

  it('hands a body over base64-encoded, byte for byte (a Windows-1252 CSV stays intact)', async () => {
    // Prepare
    const body = Buffer.from([0x49, 0x6e, 0x76, 0x0a, 0xe9, 0x80, 0x0a]); // "Inv\né€\n" in Windows-1252

    // Act
    await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'text/csv; charset=windows-1252' },
      body,
    });

    // Assess
    const event = events[0]!;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(body);
    expect(event.headers['content-type']).toBe('text/csv; charset=windows-1252');
  });

  it('answers 403 without calling the handler when the key is missing or wrong; /health needs none', async () => {
    // Act
    const none = await fetch(`${url}/invoices/536365`);
    const wrong = await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': 'nope' },
      body: 'x',
    });
    const health = await fetch(`${url}/health`);

    // Assess
    expect(none.status).toBe(403);
    expect(await none.json()).toEqual({ error: 'INVALID_API_KEY', message: 'Forbidden' });
    expect(wrong.status).toBe(403);
    expect(health.status).toBe(200);
    expect(events.map((e) => e.resource)).toEqual(['/health']);
  });

  it("answers the dashboard's auth script itself, with the stack's key, and never calls the handler", async () => {
    // Act
    const response = await fetch(`${url}${DASHBOARD_AUTH_SCRIPT}`);
    const script = await response.text();
    // Assess: the script, run as a browser would, gives the key as the page's request header.
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script).toBe(localAuthScript({ token: null, apiKey: KEY }));
    const window: { ecomflowAuth?: { headers(): Promise<Record<string, string>> } } = {};
    new Function('window', 'location', script)(window, {});
    expect(await window.ecomflowAuth?.headers()).toEqual({ 'x-api-key': KEY });
    expect(events).toEqual([]);
  });

  it('routes /dashboard/data to its own resource, behind the key, and other names to /dashboard/{file}', async () => {
    // Act
    const data = await fetch(`${url}/dashboard/data?country=Netherlands`, { headers: { 'x-api-key': KEY } });
    const keyless = await fetch(`${url}/dashboard/data`);
    const file = await fetch(`${url}/dashboard/dashboard.js`);
    const page = await fetch(`${url}/`);
    // Assess
    expect([data.status, keyless.status, file.status, page.status]).toEqual([200, 403, 200, 200]);
    expect(events.map((e) => [e.resource, e.pathParameters, e.queryStringParameters])).toEqual([
      ['/dashboard/data', null, { country: 'Netherlands' }],
      ['/dashboard/{file}', { file: 'dashboard.js' }, null],
      ['/', null, null],
    ]);
  });

  it('answers 403 Missing Authentication Token for a path no resource matches', async () => {
    // Act
    const response = await fetch(`${url}/nowhere/at/all`, { headers: { 'x-api-key': KEY } });

    // Assess
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: 'MISSING_AUTHENTICATION_TOKEN',
      message: 'Missing Authentication Token',
    });
    expect(events).toEqual([]);
  });

  it.each(UNDEFINED_METHODS)(
    'answers $method $path (no such method) as API Gateway does: 403 Missing Authentication Token',
    async ({ method, path }) => {
      // Act: with the right key, which API Gateway does not look at for an undefined method.
      const response = await fetch(`${url}${path}`, { method, headers: { 'x-api-key': KEY } });

      // Assess
      expect(response.status).toBe(GATEWAY_ERRORS.missingAuthenticationToken.status);
      expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      expect(await response.json()).toEqual({
        error: 'MISSING_AUTHENTICATION_TOKEN',
        message: 'Missing Authentication Token',
      });
      expect(events).toEqual([]);
    },
  );

  it('has undefined methods to check on every resource (the table above is not empty)', () => {
    expect(UNDEFINED_METHODS).toContainEqual({ method: 'POST', path: '/invoices/1' });
    expect(UNDEFINED_METHODS).toContainEqual({ method: 'POST', path: '/health' });
    expect(UNDEFINED_METHODS).not.toContainEqual({ method: 'GET', path: '/health' });
  });

  it('answers HEAD /health as API Gateway does (HEAD is not routed to GET): 403, headers only', async () => {
    // Act
    const head = await raw(url, 'HEAD', '/health');

    // Assess
    expect(head.status).toBe(403);
    expect(head.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(head.body).toBe('');
    expect(events).toEqual([]);
  });

  it('answers a wrong key with ForbiddenException, whatever its length or how much of it is right', async () => {
    for (const key of ['', 't', KEY.slice(0, -1), `${KEY}x`, KEY.toUpperCase()]) {
      const response = await fetch(`${url}/status`, { headers: { 'x-api-key': key } });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    }
    expect(events).toEqual([]);
  });

  it('passes a gzip body on as sent, with its Content-Encoding, as API Gateway does without content encoding enabled', async () => {
    // Prepare
    const body = gzipSync('InvoiceNo\n536365\n');

    // Act
    await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'text/csv', 'content-encoding': 'gzip' },
      body,
    });

    // Assess
    expect(Buffer.from(events[0]!.body!, 'base64')).toEqual(body);
    expect(events[0]!.headers['content-encoding']).toBe('gzip');
  });

  it('answers 413 above its payload cap without calling the handler, and passes a body at the cap', async () => {
    // Act
    const over = await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'text/csv' },
      body: 'x'.repeat(1025),
    });
    const at = await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'text/csv' },
      body: 'x'.repeat(1024),
    });

    // Assess
    expect(over.status).toBe(413);
    expect(((await over.json()) as { message: string }).message).toMatch(/1024 byte limit/);
    expect(at.status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it("returns the handler's status, headers and body, decoding a base64 body", async () => {
    // Prepare
    reply = {
      statusCode: 202,
      headers: { 'Content-Type': 'application/octet-stream', 'X-Count': 3 as unknown as string },
      body: Buffer.from([1, 2, 3]).toString('base64'),
      isBase64Encoded: true,
    };

    // Act
    const response = await fetch(`${url}/invoices/1`, { headers: { 'x-api-key': KEY } });

    // Assess
    expect(response.status).toBe(202);
    expect(response.headers.get('x-count')).toBe('3');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
  });
});

describe('apiKeyMatches', () => {
  it.each([
    { sent: 'test-key', expected: true },
    { sent: 'test-kez', expected: false },
    { sent: 'test-ke', expected: false },
    { sent: 'test-key ', expected: false },
    { sent: '', expected: false },
    { sent: undefined, expected: false },
  ])('$sent against test-key: $expected', ({ sent, expected }) => {
    expect(apiKeyMatches(sent, KEY)).toBe(expected);
  });
});

describe('requests in flight', () => {
  /** A gateway whose handler holds every request but /health until released. */
  async function heldGateway(inFlightLimits: InFlightLimits) {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = { count: 0 };
    const server = createGateway({
      handler: async (event) => {
        if (event.resource === '/health') return { statusCode: 200, headers: {}, body: '{}' };
        started.count++;
        await held;
        return { statusCode: 200, headers: {}, body: '{}' };
      },
      apiKey: KEY,
      inFlightLimits,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const waitStarted = async (n: number) => {
      while (started.count < n) await new Promise((r) => setTimeout(r, 5));
    };
    return { server, base, release: () => release(), waitStarted };
  }

  it('answers a private request over the limit with 429 Too Many Requests and Retry-After, and /health still', async () => {
    // Prepare
    const { server, base, release, waitStarted } = await heldGateway({
      withBody: 2,
      withoutBody: 2,
      bodyBytes: 1_000,
    });
    const get = () => fetch(`${base}/invoices/536365`, { headers: { 'x-api-key': KEY } });
    try {
      // Act
      const first = [get(), get()];
      await waitStarted(2);
      const third = await get();
      const health = await fetch(`${base}/health`);
      release();
      const answered = await Promise.all(first);
      const after = await get();

      // Assess
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('1');
      expect(third.headers.get('x-amzn-errortype')).toBe(GATEWAY_ERRORS.throttled.type);
      expect(await third.json()).toEqual({ error: 'THROTTLED', message: 'Too Many Requests' });
      expect(health.status).toBe(200);
      expect(answered.map((r) => r.status)).toEqual([200, 200]);
      expect(after.status).toBe(200);
    } finally {
      release();
      await close(server);
    }
  });

  it('bounds the bytes of the bodies in flight: a body that would pass them gets 429, one alone never does', async () => {
    // Prepare: room for 10 requests with a body, but for 1,000 bytes of them.
    const { server, base, release, waitStarted } = await heldGateway({
      withBody: 10,
      withoutBody: 4,
      bodyBytes: 1_000,
    });
    const post = (bytes: number) =>
      fetch(`${base}/ingest`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'text/csv' },
        body: 'x'.repeat(bytes),
      });
    try {
      // Act
      const first = post(600);
      await waitStarted(1);
      const tooMuch = await post(600);
      const small = post(300);
      await waitStarted(2);
      release();
      const answered = await Promise.all([first, small]);
      // A body over the whole budget is still served when nothing else is in flight.
      const alone = post(5_000);
      await waitStarted(3);
      const aloneAnswer = await alone;

      // Assess
      expect(tooMuch.status).toBe(429);
      expect(tooMuch.headers.get('retry-after')).toBe('1');
      expect(answered.map((r) => r.status)).toEqual([200, 200]);
      expect(aloneAnswer.status).toBe(200);
    } finally {
      release();
      await close(server);
    }
  });

  it('counts requests with a body apart from look-ups: a full ingest limit does not throttle reads', async () => {
    // Prepare
    const { server, base, release, waitStarted } = await heldGateway({
      withBody: 1,
      withoutBody: 4,
      bodyBytes: 1_000,
    });
    const post = () =>
      fetch(`${base}/ingest`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'text/csv' },
        body: 'x',
      });
    try {
      // Act
      const first = post();
      await waitStarted(1);
      const second = await post();
      const reads = [1, 2, 3].map(() => fetch(`${base}/invoices/536365`, { headers: { 'x-api-key': KEY } }));
      await waitStarted(4);
      release();
      const answered = await Promise.all([first, ...reads]);

      // Assess
      expect(second.status).toBe(429);
      expect(answered.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    } finally {
      release();
      await close(server);
    }
  });
});
